// POST hands the workspace to another member (the owner only); the old owner becomes an admin.
// People only: membership changes outlive a leaked API key (docs/api.md, API keys).
import { readJson, withSession } from "@/lib/api/handler";
import { transferOwnership } from "@/lib/team";

export const POST = withSession("write", async (request, user) => {
  return Response.json(await transferOwnership(user, await readJson(request)));
});
