// POST { workspaceId? }: scan the workspace's accounts now, within ~10 s (editors and up).
import { checkAll } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("process", async (request, user) => {
  return Response.json(await checkAll(user, await readJson(request)));
});
