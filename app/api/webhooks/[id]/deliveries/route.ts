// GET: the endpoint's delivery log, newest first (?before=<delivery id> pages back).
import { withUser } from "@/lib/api/handler";
import { listDeliveries } from "@/lib/webhooks";

type Ctx = { params: Promise<{ id: string }> };

export const GET = withUser<Ctx>("read", async (request, user, { params }) => {
  return Response.json(await listDeliveries(user, (await params).id, new URL(request.url).searchParams.get("before")));
});
