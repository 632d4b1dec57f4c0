// GET the health rules in force for the workspace (defaults, its tuning, the bounds). ?workspaceId=. Any member.
import { listHealthRules, parseWorkspaceQuery } from "@/lib/health/overview";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = parseWorkspaceQuery(Object.fromEntries(new URL(request.url).searchParams));
  return Response.json(await listHealthRules(user, workspaceId));
});
