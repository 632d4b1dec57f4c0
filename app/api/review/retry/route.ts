// POST { ids, workspaceId? }: failed or needs-review items back to pending, due now (editors and up; audited).
import { retryReviewItems } from "@/lib/review";
import type { RetryQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await retryReviewItems(user, await readJson<RetryQueueItemsInput>(request)));
});
