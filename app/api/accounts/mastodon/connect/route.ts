// POST { instance, workspaceId?, accountId? }: starts connecting (or reconnecting) a Mastodon account;
// answers the instance's sign-in URL to send the user to (editors and up; lib/accounts/mastodon.ts).
import { withUser, readJson } from "@/lib/api/handler";
import { startMastodonConnect } from "@/lib/accounts/mastodon";

export const POST = withUser("write", async (request, user) => Response.json(await startMastodonConnect(user, await readJson(request))));
