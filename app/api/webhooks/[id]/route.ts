// PATCH changes an endpoint (url, description, events, enabled: re-enabling resumes its deliveries); DELETE removes it.
// People only: a leaked API key must not redirect or remove the workspace's webhook endpoints.
import { readJson, withSession } from "@/lib/api/handler";
import { deleteEndpoint, updateEndpoint } from "@/lib/webhooks";

type Ctx = { params: Promise<{ id: string }> };

export const PATCH = withSession<Ctx>("write", async (request, user, { params }) => {
  return Response.json({ endpoint: await updateEndpoint(user, (await params).id, await readJson(request)) });
});

export const DELETE = withSession<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await deleteEndpoint(user, (await params).id));
});
