// POST imports chosen Upload-Post profile platforms as Pacer accounts; the reply says per selection what happened.
import { withUser, readJson } from "@/lib/api/handler";
import { importUploadPostAccounts } from "@/lib/accounts/upload-post";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await importUploadPostAccounts(user, await readJson(request)));
});
