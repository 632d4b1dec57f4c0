// PUT { workspaceId?, autoPause?, pauseBelowScore? }: the workspace's auto-pause policy (admins and owners).
import { updateSettings } from "@/lib/health/actions";
import { readJson, withUser } from "@/lib/api/handler";

export const PUT = withUser("write", async (request, user) => {
  return Response.json(await updateSettings(user, await readJson(request)));
});
