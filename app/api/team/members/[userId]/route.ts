// PATCH changes a member's role; DELETE removes them from the workspace (yourself: leaving).
// Changes are for people only: membership changes outlive a leaked API key (docs/api.md, API keys).
import { readJson, withSession } from "@/lib/api/handler";
import { changeMemberRole, removeMember } from "@/lib/team";

type Ctx = { params: Promise<{ userId: string }> };

export const PATCH = withSession<Ctx>("write", async (request, user, { params }) => {
  const member = await changeMemberRole(user, (await params).userId, await readJson(request));
  return Response.json({ member });
});

export const DELETE = withSession<Ctx>("write", async (request, user, { params }) => {
  await removeMember(user, (await params).userId, new URL(request.url).searchParams.get("workspaceId"));
  return new Response(null, { status: 204 });
});
