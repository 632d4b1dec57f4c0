// POST { action: pause | resume | remove, accountIds }: one action over many accounts, each account's outcome in the reply.
import { withUser, readJson } from "@/lib/api/handler";
import { bulkAccountAction } from "@/lib/accounts";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await bulkAccountAction(user, await readJson(request)));
});
