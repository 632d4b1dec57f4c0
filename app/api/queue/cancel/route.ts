// POST cancels queue items by ids or by filter (accountId, from, to); items mid-publish are not torn.
import { cancelQueueItems, type CancelQueueItemsInput } from "@/lib/queue";
import { readJsonWithin, withApiLimit } from "@/lib/queue/api-limits";

export const POST = withApiLimit("write", async (request, user) => {
  return Response.json(await cancelQueueItems(user, await readJsonWithin<CancelQueueItemsInput>(request)));
});
