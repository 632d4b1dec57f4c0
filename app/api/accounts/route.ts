// GET lists the workspace's social accounts; POST adds one (capped by the plan).
import { withUser, readJson } from "@/lib/api/handler";
import { addAccount, listAccounts } from "@/lib/accounts";

export const GET = withUser("read", async (request, user) => {
  const workspaceId = new URL(request.url).searchParams.get("workspaceId");
  return Response.json(await listAccounts(user, workspaceId));
});

export const POST = withUser("write", async (request, user) => {
  const account = await addAccount(user, await readJson(request));
  return Response.json({ account }, { status: 201 });
});
