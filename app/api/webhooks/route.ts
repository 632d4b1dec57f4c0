// GET lists the workspace's webhook endpoints (?workspaceId=); POST creates one and returns its secret once. Admins and owners.
// Creating is for people only: a leaked API key must not point the workspace's events at a new URL.
import { withUser, readJson, withSession } from "@/lib/api/handler";
import { createEndpoint, listEndpoints } from "@/lib/webhooks";

export const GET = withUser("read", async (request, user) => {
  return Response.json(await listEndpoints(user, new URL(request.url).searchParams.get("workspaceId")));
});

export const POST = withSession("write", async (request, user) => {
  return Response.json(await createEndpoint(user, await readJson(request)), { status: 201 });
});
