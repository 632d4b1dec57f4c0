// POST reconnects an Upload-Post account in needs_reconnect, or answers a new connect link for its profile.
import { withUser, readJson } from "@/lib/api/handler";
import { appUrl } from "@/lib/api/app-url";
import { reconnectUploadPostAccount } from "@/lib/accounts/upload-post";

export const POST = withUser("write", async (request, user) => {
  const returnTo = appUrl("/dashboard/accounts?upload_post=reconnected", "Reconnecting through Upload-Post");
  return Response.json(await reconnectUploadPostAccount(user, await readJson(request), returnTo));
});
