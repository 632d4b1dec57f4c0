// POST puts cancelled items back in the queue (Undo of cancel) where their time has not passed and
// they were never tried; an outcome per item says which were restored and why others were not.
import { restoreQueueItems, type RestoreInput } from "@/lib/queue";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await restoreQueueItems(user, await readJson<RestoreInput>(request)));
});
