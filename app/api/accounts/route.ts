// GET lists the workspace's social accounts (search, filters, pages: lib/accounts/input.ts); POST adds one (capped by the plan).
import { withUser, readJson } from "@/lib/api/handler";
import { addAccount, listAccounts } from "@/lib/accounts";

export const GET = withUser("read", async (request, user) => {
  const params = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await listAccounts(user, params.workspaceId, params));
});

export const POST = withUser("write", async (request, user) => {
  const account = await addAccount(user, await readJson(request));
  return Response.json({ account }, { status: 201 });
});
