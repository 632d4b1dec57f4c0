// POST { ids, workspaceId? }: close the missing-post flags of these queue items (editors and up; audited).
import { acknowledgeMissingPosts } from "@/lib/review";
import type { RetryQueueItemsInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await acknowledgeMissingPosts(user, await readJson<RetryQueueItemsInput>(request)));
});
