// PATCH renames an account (handle, display name); DELETE removes it.
import { withUser, readJson } from "@/lib/api/handler";
import { removeAccount, renameAccount } from "@/lib/accounts";

type Ctx = { params: Promise<{ id: string }> };

export const PATCH = withUser<Ctx>("write", async (request, user, { params }) => {
  const account = await renameAccount(user, (await params).id, await readJson(request));
  return Response.json({ account });
});

export const DELETE = withUser<Ctx>("write", async (_request, user, { params }) => {
  await removeAccount(user, (await params).id);
  return new Response(null, { status: 204 });
});
