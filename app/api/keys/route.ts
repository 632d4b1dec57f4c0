// GET: the workspace's API keys (never their secrets). POST { name, scopes, expiresAt?, workspaceId? }:
// make one; the reply carries its secret, this once. People only: an API key cannot list or make keys.
import { createApiKey, listApiKeys } from "@/lib/api-keys";
import { readJson, withSession } from "@/lib/api/handler";

export const GET = withSession("read", async (request, user) => {
  const url = new URL(request.url);
  return Response.json(await listApiKeys(user, { workspaceId: url.searchParams.get("workspaceId") }));
});

export const POST = withSession("write", async (request, user) => {
  return Response.json(await createApiKey(user, await readJson(request)), { status: 201 });
});
