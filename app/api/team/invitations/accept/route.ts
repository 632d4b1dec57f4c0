// POST accepts an invitation, by its link's token, as the signed-in user it was sent to.
import { readJson, withSession } from "@/lib/api/handler";
import { acceptInvitation } from "@/lib/team";

export const POST = withSession("write", async (request, user) => {
  return Response.json(await acceptInvitation(user, await readJson(request)));
});
