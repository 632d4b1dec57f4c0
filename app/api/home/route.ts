// GET: the dashboard home in one read — getting started, upcoming posts, failures, review, usage,
// and what the app-wide banners warn about (a failed payment, paused accounts). Any member may read it.
import { withUser } from "@/lib/api/handler";
import { getHome } from "@/lib/home";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await getHome(user, { workspaceId }));
});
