// GET one page of queue items, latest scheduled first: ?status= (one or more, comma-separated),
// ?accountId=, ?platform=, ?from=&to= (scheduled time), ?q= (text, thread or handle), ?order=newest|oldest,
// ?limit= (1–200, default 50), ?cursor= (the nextCursor of the page before), ?workspaceId=.
import { listQueuePage, type PageQuery } from "@/lib/queue";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams) as PageQuery;
  return Response.json(await listQueuePage(user, query));
});
