// POST cancels, retries or reschedules the items named by `ids`, or every item matching `filter`,
// with an outcome per item (done, or skipped and why); editors and up.
import { bulkQueueAction, type BulkActionInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await bulkQueueAction(user, await readJson<BulkActionInput>(request)));
});
