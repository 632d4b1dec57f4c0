// POST sends failed or needs-review queue items back to pending, due now.
import { retryQueueItems, type RetryQueueItemsInput } from "@/lib/queue";
import { readJsonWithin, withApiLimit } from "@/lib/queue/api-limits";

export const POST = withApiLimit("write", async (request, user) => {
  return Response.json(await retryQueueItems(user, await readJsonWithin<RetryQueueItemsInput>(request)));
});
