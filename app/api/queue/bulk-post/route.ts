// POST queues up to 10,000 posts in one transaction, or with `dryRun` only checks them; an
// Idempotency-Key makes a retry safe (a timed-out 10k bulk retried queues 10k, not 20k). While the
// workspace's editors' posts need approval, an editor's rows wait as one submission instead (202).
import { bulkAddToQueue, type BulkAddInput } from "@/lib/queue";
import { inTransaction, submitIfNeeded } from "@/lib/approvals";
import { BODY_LIMITS, readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";

export const POST = withUser("bulk", async (request, user) => {
  const input = await readJson<BulkAddInput>(request, BODY_LIMITS.bulk);
  return replyIdempotently(request, user, "POST /api/queue/bulk-post", input, (within) =>
    inTransaction(user, within, async (tx) => {
      const submission = await submitIfNeeded(user, tx, "bulk", input);
      if (submission) return { status: 202, body: { submission } };
      const result = await bulkAddToQueue(user, input, tx);
      return { status: result.dryRun ? 200 : 201, body: result };
    }),
  );
});
