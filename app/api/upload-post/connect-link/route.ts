// POST: a single-use link to Upload-Post's hosted page to connect more platforms to a profile; it returns to the accounts page.
import { withUser, readJson } from "@/lib/api/handler";
import { uploadPostConnectLink } from "@/lib/accounts/upload-post";

export const POST = withUser("write", async (request, user) => {
  const returnTo = new URL("/dashboard/accounts?upload_post=connected", request.url).toString();
  return Response.json(await uploadPostConnectLink(user, await readJson(request), returnTo));
});
