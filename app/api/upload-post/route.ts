// GET: the workspace's Upload-Post key status (last 4 characters, when set) and the key's profiles with their connected platforms.
import { withUser } from "@/lib/api/handler";
import { uploadPostOverview } from "@/lib/accounts/upload-post";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await uploadPostOverview(user, workspaceId));
});
