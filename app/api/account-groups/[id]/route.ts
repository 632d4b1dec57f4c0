// PATCH renames a group and/or sets its accounts; DELETE removes the group (its accounts stay). Editors and up.
import { withUser, readJson } from "@/lib/api/handler";
import { changeGroup, deleteGroup } from "@/lib/accounts/groups";

type Ctx = { params: Promise<{ id: string }> };

export const PATCH = withUser<Ctx>("write", async (request, user, { params }) => {
  return Response.json({ group: await changeGroup(user, (await params).id, await readJson(request)) });
});

export const DELETE = withUser<Ctx>("write", async (_request, user, { params }) => {
  await deleteGroup(user, (await params).id);
  return new Response(null, { status: 204 });
});
