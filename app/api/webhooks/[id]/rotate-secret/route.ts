// POST replaces the endpoint's signing secret at once and returns the new one (shown only here).
// People only: the reply carries a signing secret, which a leaked API key must never see.
import { withSession } from "@/lib/api/handler";
import { rotateSecret } from "@/lib/webhooks";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withSession<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await rotateSecret(user, (await params).id));
});
