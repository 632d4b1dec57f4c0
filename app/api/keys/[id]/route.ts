// DELETE: revoke an API key (its maker, or an admin or owner); it stops working at once. People only.
import { revokeApiKey } from "@/lib/api-keys";
import { withSession } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const DELETE = withSession<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await revokeApiKey(user, (await params).id));
});
