// GET the latest queue items, newest first: ?limit= (1–200, default 50), ?status=, ?workspaceId=.
import { listQueueItems } from "@/lib/queue";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json({ items: await listQueueItems(user, query) });
});
