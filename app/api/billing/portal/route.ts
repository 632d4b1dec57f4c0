// POST { workspaceId? }: a Stripe customer portal session for the workspace ({ url }).
import { readJson, withUser } from "@/lib/api/handler";
import { openPortal } from "@/lib/billing/checkout";

export const POST = withUser(async (request, user) => {
  // The body is optional: without one the portal opens for the default workspace.
  const input = (await request.clone().text()) ? await readJson(request) : undefined;
  return Response.json(await openPortal(user, input, { origin: new URL(request.url).origin }));
});
