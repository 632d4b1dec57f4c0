// GET one queue item in detail: its post in full (thread, media, comment), every attempt from the
// posting history, and whether it may still be edited or restored. ?workspaceId=.
import { getQueueItemDetail } from "@/lib/queue";
import { withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const GET = withUser<Ctx>("read", async (request, user, { params }) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await getQueueItemDetail(user, (await params).id, workspaceId));
});
