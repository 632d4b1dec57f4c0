// GET lists the workspace's submissions (?status=submitted|approved|rejected): all of them for
// admins and owners, an editor's own for editors, with the workspace's setting.
import { withUser } from "@/lib/api/handler";
import { listSubmissions } from "@/lib/approvals";

export const GET = withUser("read", async (request, user) => {
  const params = new URL(request.url).searchParams;
  return Response.json(
    await listSubmissions(user, { workspaceId: params.get("workspaceId"), status: params.get("status") ?? undefined }),
  );
});
