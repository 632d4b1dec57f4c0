// GET: where the Mastodon instance sends the user back after its sign-in. Finishes the connect and
// lands on the accounts page saying what happened (only codes and the account's id travel in the URL:
// the page words the message and reads the account's handle from the API, so a crafted link cannot
// put text of its own on it).
import { authenticate } from "@/lib/auth";
import { PacerError } from "@/lib/api/errors";
import { enforceApiLimit } from "@/lib/api/limits";
import { configuredAppOrigin } from "@/lib/api/app-url";
import { finishMastodonConnect } from "@/lib/accounts/mastodon";

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url);
  // Back on the app's configured address (never the request's Host); without one, a path on this host.
  const origin = configuredAppOrigin();
  const back = new URL("/dashboard/accounts", origin ?? url.origin);
  back.searchParams.set("connect", "mastodon");
  try {
    const user = await authenticate(request);
    if (!user) {
      back.searchParams.set("error", "signed_out");
    } else {
      await enforceApiLimit(user, "write");
      const result = await finishMastodonConnect(user, url.searchParams);
      if (result.kind === "failed") {
        back.searchParams.set("error", result.error);
      } else {
        back.searchParams.set("result", result.kind);
        back.searchParams.set("account", result.account.id);
      }
    }
  } catch (error) {
    if (error instanceof PacerError && error.status === 429) back.searchParams.set("error", "rate_limited");
    else {
      console.error("accounts: finishing a Mastodon sign-in failed", error);
      back.searchParams.set("error", "not_connected");
    }
  }
  const location = origin ? back.href : `${back.pathname}${back.search}`;
  return new Response(null, { status: 303, headers: { location } });
}
