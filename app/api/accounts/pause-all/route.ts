// POST { workspaceId?, accountIds? }: pause the workspace's at-risk accounts, only the listed ones still
// at risk when accountIds is sent (editors and up; audited).
import { pauseAll } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await pauseAll(user, await readJson(request)));
});
