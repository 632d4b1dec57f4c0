// GET the workspace's account health at a glance: settings, score distribution, open alerts by
// severity, at-risk accounts (worst first) with their alerts, the latest alerts, the last scan.
// ?workspaceId=. Any member.
import { getHealthOverview, parseWorkspaceQuery } from "@/lib/health/overview";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = parseWorkspaceQuery(Object.fromEntries(new URL(request.url).searchParams));
  return Response.json(await getHealthOverview(user, workspaceId));
});
