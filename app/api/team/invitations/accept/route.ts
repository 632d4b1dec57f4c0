// POST accepts an invitation, by its link's token, as the signed-in user it was sent to.
import { withUser, readJson } from "@/lib/api/handler";
import { acceptInvitation } from "@/lib/team";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await acceptInvitation(user, await readJson(request)));
});
