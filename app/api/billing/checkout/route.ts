// POST { planId, workspaceId? }: move the workspace to a plan — a Stripe Checkout or portal page to
// open ({ mode: "stripe", url }), or, in local mode, the simulated change already applied.
import { readJson, withUser } from "@/lib/api/handler";
import { changePlan } from "@/lib/billing/checkout";

export const POST = withUser("billing", async (request, user) => {
  const change = await changePlan(user, await readJson(request), { origin: new URL(request.url).origin });
  return Response.json(change);
});
