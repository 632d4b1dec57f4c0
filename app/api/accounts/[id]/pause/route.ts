// POST: pause the account (editors and up; audited). Its queued posts wait, nothing is lost.
import { pauseOne } from "@/lib/health/actions";
import { withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (_request, user, { params }) => {
  return Response.json(await pauseOne(user, (await params).id));
});
