// POST runs the queue processor now (owners and admins), then answers with the workspace's status.
import { parseProcessRequest, processQueueNow } from "@/lib/queue";
import { readJsonWithin, withApiLimit } from "@/lib/queue/api-limits";

export const POST = withApiLimit("process", async (request, user) => {
  const { workspaceId } = parseProcessRequest(await readJsonWithin(request));
  const requested = workspaceId ?? new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await processQueueNow(user, requested));
});
