// DELETE revokes an open invitation: its link stops working.
// People only: membership changes outlive a leaked API key (docs/api.md, API keys).
import { withSession } from "@/lib/api/handler";
import { revokeInvitation } from "@/lib/team";

type Ctx = { params: Promise<{ id: string }> };

export const DELETE = withSession<Ctx>("write", async (_request, user, { params }) => {
  await revokeInvitation(user, (await params).id);
  return new Response(null, { status: 204 });
});
