// GET lists the workspace's members and their roles, with the roles you may manage there.
import { withUser } from "@/lib/api/handler";
import { getTeam } from "@/lib/team";

export const GET = withUser("read", async (request, user) => {
  return Response.json(await getTeam(user, new URL(request.url).searchParams.get("workspaceId")));
});
