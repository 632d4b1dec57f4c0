// GET, operators only: how well the installation publishes over ?window= (5m–7d, default 24h),
// overall, per platform and per workspace (?workspaceId= narrows it to one), with the warnings.
// People only (withSession): operators' views span every workspace, which no workspace's API key may reach.
import { withSession } from "@/lib/api/handler";
import { opsMetrics } from "@/lib/ops/metrics";

export const GET = withSession("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await opsMetrics(user, query));
});
