// POST { id, externalId?, url?, workspaceId? }: a person saw the post on the platform; the item is
// recorded as posted (editors and up; audited).
import { markPosted, type MarkPostedInput } from "@/lib/review";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await markPosted(user, await readJson<MarkPostedInput>(request)));
});
