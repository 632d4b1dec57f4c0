// PUT { workspaceId?, threshold?, enabled? } tunes one rule for the workspace (admins and owners;
// 409 outside its bounds); DELETE ?workspaceId= puts it back to its defaults.
import { resetRule, tuneRule } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ ruleId: string }> };

export const PUT = withUser<Ctx>("write", async (request, user, { params }) => {
  return Response.json(await tuneRule(user, (await params).ruleId, await readJson(request)));
});

export const DELETE = withUser<Ctx>("write", async (request, user, { params }) => {
  await resetRule(user, (await params).ruleId, new URL(request.url).searchParams.get("workspaceId"));
  return new Response(null, { status: 204 });
});
