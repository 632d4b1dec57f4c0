// POST queues a copy of a post: { accountIds?, scheduledFor? } (the original's when left out). It is
// queued as POST /api/queue/add queues a post, approvals included; an Idempotency-Key makes a retry safe.
import { addToQueue, duplicateRequest, type DuplicateInput } from "@/lib/queue";
import { inTransaction, submitIfNeeded } from "@/lib/approvals";
import { readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";

type Ctx = { params: Promise<{ postId: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const input = await readJson<DuplicateInput>(request);
  const { postId } = await params;
  const copy = await duplicateRequest(user, postId, input);
  return replyIdempotently(request, user, "POST /api/queue/posts/:postId/duplicate", { postId, ...input }, (within) =>
    inTransaction(user, within, async (tx) => {
      const submission = await submitIfNeeded(user, tx, "add", copy);
      if (submission) return { status: 202, body: { submission } };
      return { status: 201, body: await addToQueue(user, copy, tx) };
    }),
  );
});
