// GET the latest queue items, newest first: ?limit= (1–200, default 50), ?status=, ?workspaceId=.
import { listQueueItems } from "@/lib/queue";
import { withApiLimit } from "@/lib/queue/api-limits";

export const GET = withApiLimit("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json({ items: await listQueueItems(user, query) });
});
