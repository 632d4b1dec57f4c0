// POST { note } rejects a submission (admins and owners): nothing is queued; the editor sees the note.
import { readJson, withUser } from "@/lib/api/handler";
import { rejectSubmission, type RejectInput } from "@/lib/approvals";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const { id } = await params;
  return Response.json({ submission: await rejectSubmission(user, id, await readJson<RejectInput>(request)) });
});
