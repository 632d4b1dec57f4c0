// POST queues one post to one or more accounts; an Idempotency-Key makes a retry safe.
import { addToQueue, type AddToQueueInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";
import { replyIdempotently } from "@/lib/api/idempotency";

export const POST = withUser("write", async (request, user) => {
  const input = await readJson<AddToQueueInput>(request);
  return replyIdempotently(request, user, "POST /api/queue/add", input, async (tx) => ({
    status: 201,
    body: await addToQueue(user, input, tx),
  }));
});
