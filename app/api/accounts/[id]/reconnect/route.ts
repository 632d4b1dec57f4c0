// POST { credentials }: reconnects the account with new credentials (e.g. a Bluesky app password);
// the same account keeps its queue and history. Mastodon reconnects through POST /api/accounts/mastodon/connect.
import { withUser, readJson } from "@/lib/api/handler";
import { reconnectAccount } from "@/lib/accounts";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const account = await reconnectAccount(user, (await params).id, await readJson(request));
  return Response.json({ account });
});
