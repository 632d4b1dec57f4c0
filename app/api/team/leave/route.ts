// POST leaves a workspace (anyone but its owner, who transfers ownership first).
import { withUser, readJson } from "@/lib/api/handler";
import { leaveWorkspace } from "@/lib/team";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await leaveWorkspace(user, await readJson(request)));
});
