// POST: retry a delivery now (the worker sends it on its next run; a given-up one gets a fresh 24 hours).
import { withUser } from "@/lib/api/handler";
import { retryDelivery } from "@/lib/webhooks";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await retryDelivery(user, (await params).id), { status: 202 });
});
