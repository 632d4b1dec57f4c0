// POST cancels queue items by ids or by filter (accountId, from, to); items mid-publish are not torn.
import { cancelQueueItems, type CancelQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await cancelQueueItems(user, await readJson<CancelQueueItemsInput>(request)));
});
