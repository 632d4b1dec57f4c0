// POST accepts an invitation, by its link's token, as the signed-in user it was sent to.
// People only: membership changes outlive a leaked API key (docs/api.md, API keys).
import { readJson, withSession } from "@/lib/api/handler";
import { acceptInvitation } from "@/lib/team";

export const POST = withSession("write", async (request, user) => {
  return Response.json(await acceptInvitation(user, await readJson(request)));
});
