// GET, operators only: how well the installation publishes over ?window= (5m–7d, default 24h),
// overall, per platform and per workspace (?workspaceId= narrows it to one), with the warnings.
import { withUser } from "@/lib/api/handler";
import { opsMetrics } from "@/lib/ops/metrics";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await opsMetrics(user, query));
});
