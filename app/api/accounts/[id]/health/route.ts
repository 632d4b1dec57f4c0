// GET one account's health over ?days= (1–90, default 7): series, baseline, score breakdown,
// alerts, attempts, state changes, held destinations. Any member of its workspace.
import { getAccountHealth } from "@/lib/health/overview";
import { withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ id: string }> };

export const GET = withUser<Ctx>("read", async (request, user, { params }) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await getAccountHealth(user, (await params).id, query));
});
