// POST queues a draft: the body is POST /api/queue/add's, and the draft is deleted in the same
// transaction as the post is queued (or, for an editor while posts need approval, submitted: 202).
// An Idempotency-Key makes a retry safe.
import { readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";
import { queueDraft } from "@/lib/drafts";
import type { AddToQueueInput } from "@/lib/queue";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const { id } = await params;
  const input = await readJson<AddToQueueInput>(request);
  return replyIdempotently(request, user, `POST /api/drafts/${id}/queue`, input, async (tx) => {
    const body = await queueDraft(user, id, input, tx);
    // 202: the post waits for an admin's approval (see docs/api.md, Approvals).
    return { status: "submission" in body ? 202 : 201, body };
  });
});
