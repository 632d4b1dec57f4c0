// GET the queue items placed in a time range: ?from=&to= (ISO times, at most 62 days apart), ?accountId=, ?platform=, ?workspaceId=.
import { listCalendarItems } from "@/lib/calendar";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await listCalendarItems(user, query));
});
