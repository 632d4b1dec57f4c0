// POST queues up to 10,000 posts in one transaction, or with `dryRun` only checks them.
import { bulkAddToQueue, type BulkAddInput } from "@/lib/queue";
import { readJsonWithin, withApiLimit } from "@/lib/queue/api-limits";

export const POST = withApiLimit("bulk", async (request, user) => {
  const result = await bulkAddToQueue(user, await readJsonWithin<BulkAddInput>(request));
  return Response.json(result, { status: result.dryRun ? 200 : 201 });
});
