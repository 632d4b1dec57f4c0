// GET the queue's counts by status and platform, success rate, next due and oldest waiting times.
import { getQueueStatus } from "@/lib/queue";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  return Response.json(await getQueueStatus(user, new URL(request.url).searchParams.get("workspaceId")));
});
