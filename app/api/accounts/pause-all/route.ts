// POST { workspaceId? }: pause every at-risk account of the workspace (editors and up; audited).
import { pauseAll } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await pauseAll(user, await readJson(request)));
});
