// POST { ids, workspaceId? }: cancel items by id, needs-review ones included (editors and up; audited).
import { cancelReviewItems } from "@/lib/review";
import type { RetryQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await cancelReviewItems(user, await readJson<RetryQueueItemsInput>(request)));
});
