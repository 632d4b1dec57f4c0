// POST: resume the account (editors and up; audited); 409 when the plan or a reconnect must do it.
import { resumeOne } from "@/lib/health/actions";
import { withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await resumeOne(user, (await params).id));
});
