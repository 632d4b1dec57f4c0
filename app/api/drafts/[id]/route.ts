// PATCH { content } replaces a draft's content; DELETE discards it.
import { readJson, withUser } from "@/lib/api/handler";
import { deleteDraft, updateDraft, type UpdateDraftInput } from "@/lib/drafts";

type Ctx = { params: Promise<{ id: string }> };

export const PATCH = withUser<Ctx>("write", async (request, user, { params }) =>
  Response.json({ draft: await updateDraft(user, (await params).id, await readJson<UpdateDraftInput>(request)) }),
);

export const DELETE = withUser<Ctx>("write", async (_request, user, { params }) => {
  await deleteDraft(user, (await params).id);
  return new Response(null, { status: 204 });
});
