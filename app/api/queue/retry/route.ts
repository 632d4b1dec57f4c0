// POST sends failed or needs-review queue items back to pending, due now.
import { retryQueueItems, type RetryQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await retryQueueItems(user, await readJson<RetryQueueItemsInput>(request)));
});
