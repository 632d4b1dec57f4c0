// POST: acknowledge a health alert (editors and up; audited; the first acknowledgement stays).
import { acknowledge } from "@/lib/health/actions";
import { withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await acknowledge(user, (await params).id));
});
