// POST runs the queue processor now (owners and admins), then answers with the workspace's status.
import { parseProcessRequest, processQueueNow } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("process", async (request, user) => {
  const { workspaceId } = parseProcessRequest(await readJson(request));
  const requested = workspaceId ?? new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await processQueueNow(user, requested));
});
