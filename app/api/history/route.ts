// GET the posting history, newest first: ?accountId= &platform= &destination= &outcome= &from= &to=
// (ISO times, from inclusive, to exclusive) &limit= (1–200, default 50) &cursor= (nextCursor of the
// previous page) &workspaceId=.
import { listHistory } from "@/lib/history";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await listHistory(user, query));
});
