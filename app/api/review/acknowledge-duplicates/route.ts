// POST { ids, workspaceId? }: close the duplicate-post flags of these queue items (editors and up; audited).
import { acknowledgeDuplicatePosts } from "@/lib/review";
import type { RetryQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await acknowledgeDuplicatePosts(user, await readJson<RetryQueueItemsInput>(request)));
});
