// GET: the workspace's plan, subscription, the plans it can move to and the accounts its plan paused.
// People only (withSession): billing is a person's concern; no API key reads or changes it.
import { withSession } from "@/lib/api/handler";
import { getBillingOverview } from "@/lib/billing/overview";

export const GET = withSession("read", async (request, user) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await getBillingOverview(user, workspaceId));
});
