// POST queues one post to one or more accounts.
import { addToQueue, type AddToQueueInput } from "@/lib/queue";
import { readJsonWithin, withApiLimit } from "@/lib/queue/api-limits";

export const POST = withApiLimit("write", async (request, user) => {
  return Response.json(await addToQueue(user, await readJsonWithin<AddToQueueInput>(request)), { status: 201 });
});
