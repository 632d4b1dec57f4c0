// POST queues one post to one or more accounts; an Idempotency-Key makes a retry safe. While the
// workspace's editors' posts need approval, an editor's post waits as a submission instead (202).
import { addToQueue, type AddToQueueInput } from "@/lib/queue";
import { inTransaction, submitIfNeeded } from "@/lib/approvals";
import { readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";

export const POST = withUser("write", async (request, user) => {
  const input = await readJson<AddToQueueInput>(request);
  return replyIdempotently(request, user, "POST /api/queue/add", input, (within) =>
    inTransaction(user, within, async (tx) => {
      const submission = await submitIfNeeded(user, tx, "add", input);
      if (submission) return { status: 202, body: { submission } };
      return { status: 201, body: await addToQueue(user, input, tx) };
    }),
  );
});
