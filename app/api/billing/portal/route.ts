// POST { workspaceId? }: a Stripe customer portal session for the workspace ({ url }).
import { readJson, withUser } from "@/lib/api/handler";
import { openPortal } from "@/lib/billing/checkout";

export const POST = withUser("billing", async (request, user) => {
  // The body is optional: without one ({}) the portal opens for the default workspace.
  return Response.json(await openPortal(user, await readJson(request), { origin: new URL(request.url).origin }));
});
