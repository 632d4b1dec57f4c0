// POST { accountIds }: what removing these accounts would do (posts waiting, in flight, posted), changing nothing.
import { withUser, readJson } from "@/lib/api/handler";
import { removalPreview } from "@/lib/accounts";

export const POST = withUser("read", async (request, user) => {
  return Response.json(await removalPreview(user, await readJson(request)));
});
