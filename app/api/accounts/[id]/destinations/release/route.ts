// POST { destination }: release a held destination of the account (editors and up; audited).
import { release } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const POST = withUser<Ctx>("write", async (request, user, { params }) => {
  return Response.json(await release(user, (await params).id, await readJson(request)));
});
