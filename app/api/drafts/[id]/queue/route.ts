// POST queues a draft: the body is POST /api/queue/add's, and the draft is deleted in the same
// transaction as the post is queued. An Idempotency-Key makes a retry safe.
import { readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";
import { queueDraft } from "@/lib/drafts";
import type { AddToQueueInput } from "@/lib/queue";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const { id } = await params;
  const input = await readJson<AddToQueueInput>(request);
  return replyIdempotently(request, user, `POST /api/drafts/${id}/queue`, input, async (tx) => ({
    status: 201,
    body: await queueDraft(user, id, input, tx),
  }));
});
