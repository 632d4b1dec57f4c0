// POST queues a ping event for this endpoint; the worker delivers it (202: queued, not yet sent).
import { withUser } from "@/lib/api/handler";
import { sendTestEvent } from "@/lib/webhooks";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await sendTestEvent(user, (await params).id), { status: 202 });
});
