// POST leaves a workspace (anyone but its owner, who transfers ownership first).
import { readJson, withSession } from "@/lib/api/handler";
import { leaveWorkspace } from "@/lib/team";

export const POST = withSession("write", async (request, user) => {
  return Response.json(await leaveWorkspace(user, await readJson(request)));
});
