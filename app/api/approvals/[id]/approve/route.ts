// POST approves a submission (admins and owners): its posts enter the queue, created_by the editor.
// An optional body of POST /api/queue/add's fields edits the post first (checked as an add is).
import { readJson, withUser } from "@/lib/api/handler";
import { approveSubmission, type ApproveInput } from "@/lib/approvals";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  const { id } = await params;
  return Response.json(await approveSubmission(user, id, await readJson<ApproveInput>(request)), { status: 201 });
});
