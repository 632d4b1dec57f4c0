// GET lists the workspace's open invitations (admins and the owner); POST invites an email address at a role.
// Inviting is for people only: an invited attacker would outlive a leaked API key (docs/api.md, API keys).
import { withUser, readJson, withSession } from "@/lib/api/handler";
import { inviteMember, listInvitations } from "@/lib/team";

export const GET = withUser("read", async (request, user) => {
  return Response.json(await listInvitations(user, new URL(request.url).searchParams.get("workspaceId")));
});

export const POST = withSession("write", async (request, user) => {
  return Response.json(await inviteMember(user, await readJson(request)), { status: 201 });
});
