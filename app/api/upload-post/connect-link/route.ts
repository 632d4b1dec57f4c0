// POST: a single-use link to Upload-Post's hosted page to connect more platforms to a profile; it returns to the accounts page.
import { withUser, readJson } from "@/lib/api/handler";
import { appUrl } from "@/lib/api/app-url";
import { uploadPostConnectLink } from "@/lib/accounts/upload-post";

export const POST = withUser("write", async (request, user) => {
  const returnTo = appUrl("/dashboard/accounts?upload_post=connected", "A link to Upload-Post's connect page");
  return Response.json(await uploadPostConnectLink(user, await readJson(request), returnTo));
});
