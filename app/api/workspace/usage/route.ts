// GET: the workspace's plan, its account limit, and accounts in use per platform.
import { withUser } from "@/lib/api/handler";
import { getUsage } from "@/lib/workspaces";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await getUsage(user, workspaceId));
});
