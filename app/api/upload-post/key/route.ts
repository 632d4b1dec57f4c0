// PUT sets or replaces the workspace's Upload-Post API key (admins and owners, checked with Upload-Post first); DELETE removes it.
// People only (withSession): a leaked API key must not swap the key the workspace's posts go out with.
import { readJson, withSession } from "@/lib/api/handler";
import { removeUploadPostKey, setUploadPostKey } from "@/lib/accounts/upload-post";

export const PUT = withSession("write", async (request, user) => {
  return Response.json({ key: await setUploadPostKey(user, await readJson(request)) });
});

export const DELETE = withSession("write", async (request, user) => {
  return Response.json(await removeUploadPostKey(user, await readJson(request)));
});
