// POST leaves a workspace (anyone but its owner, who transfers ownership first).
// People only: membership changes outlive a leaked API key (docs/api.md, API keys).
import { readJson, withSession } from "@/lib/api/handler";
import { leaveWorkspace } from "@/lib/team";

export const POST = withSession("write", async (request, user) => {
  return Response.json(await leaveWorkspace(user, await readJson(request)));
});
