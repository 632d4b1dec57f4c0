// Connecting a Mastodon account through its instance's sign-in (OAuth with PKCE): the user names an
// instance → Pacer's app on it (registered once, kept sealed in private.mastodon_apps) → a state and
// PKCE verifier kept server-side, bound to the user and workspace, for 10 minutes and one use → the
// instance's authorize page → the callback exchanges the code, verifies the token and adds the account
// through the one add path (lib/accounts/index.ts: editors and up, the plan's limit in the database),
// or replaces a reconnecting account's credentials. The OAuth calls themselves: lib/connectors/mastodon/oauth.ts.
import { z } from "zod";
import { asUser, asWorker, db, literal, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, validationFailed } from "@/lib/api/errors";
import { appUrl } from "@/lib/api/app-url";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { BlockedDestination, checkDestination, parseAllowedHosts } from "@/lib/connectors/outbound";
import { createMastodonOAuth, createPkce, authorizeUrl, instanceOrigin, MASTODON_SCOPES } from "@/lib/connectors/mastodon/oauth";
import { connectorFor, platformEnabled } from "@/lib/connectors/registry";
import { addConnectedAccount, accountToReconnect, replaceCredentials, type Account } from "./index";
import { decryptCredentials, encryptCredentials } from "./credentials";
import { platformIdentity } from "./identity";

/** Where the instance sends the user back: on the app's configured address (lib/api/app-url.ts), registered with the app. */
export const CALLBACK_PATH = "/api/accounts/mastodon/callback";

/** How long one call to the instance may take while the user waits. */
const INSTANCE_TIMEOUT_MS = 10_000;

export const startInput = z
  .object({
    /** Optional to reconnect an account: its own instance. */
    instance: z.string().trim().min(1, "Name the Mastodon instance, e.g. mastodon.social.").max(253, "An instance name has at most 253 characters.").optional(),
    workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").optional(),
    /** Reconnect this account instead of adding one. */
    accountId: z.uuid("accountId must be an account id (a UUID).").optional(),
  })
  .strict();

const env = () => process.env;
const oauth = () => createMastodonOAuth({ allowedHosts: env().PACER_ALLOWED_HOSTS });
const appName = () => env().PACER_MASTODON_APP_NAME || "Pacer";

const sha256Hex = async (text: string) =>
  Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).toString("hex");

const instanceIssue = (code: string, status: number, message: string) => new PacerError(status, code, message, [{ path: "instance", message }]);

/**
 * Starts a sign-in: returns the instance's authorize URL to send the user to. Refuses (before any
 * request leaves) an instance that is not a host, or that resolves to a private address the operator
 * has not allowed, and a user with 20 sign-ins in flight.
 */
export async function startMastodonConnect(user: UserClaims, input: unknown): Promise<{ authorizeUrl: string }> {
  const parsed = startInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The instance");
  if (!platformEnabled("mastodon", env())) {
    throw new PacerError(400, "platform_unavailable", "Connecting Mastodon accounts is not available in this installation.", [{ path: "platform", message: "Mastodon is not enabled here." }]);
  }
  // The instance sends the sign-in's code here: only the operator's configuration may say where.
  const redirectUri = appUrl(CALLBACK_PATH, "Connecting a Mastodon account");
  // Who may start it, before anything is sent: the workspace (or the reconnecting account's), editors and up.
  const { workspaceId, accountId } = parsed.data.accountId
    ? await accountToReconnect(user, parsed.data.accountId).then((a) => {
        if (a.platform !== "mastodon") throw new PacerError(400, "not_mastodon", "Only a Mastodon account is reconnected through its instance's sign-in.");
        return { workspaceId: a.workspaceId, accountId: a.id };
      })
    : await asUser(user, async (tx) => {
        const id = await resolveWorkspaceId(tx, parsed.data.workspaceId);
        const [{ may }] = await tx`select private.has_role_on_workspace(${id}, 'editor') as may`;
        if (!may) throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to connect accounts.");
        return { workspaceId: id, accountId: null };
      });

  const named = parsed.data.instance ?? (accountId ? await instanceOf(accountId) : undefined);
  if (!named) throw instanceIssue("instance_invalid", 400, "Name the Mastodon instance, e.g. mastodon.social.");
  const instance = instanceOrigin(named);
  if (!instance) throw instanceIssue("instance_invalid", 400, "That is not a Mastodon instance's address: enter its domain, e.g. mastodon.social.");
  try {
    await checkDestination(instance, parseAllowedHosts(env().PACER_ALLOWED_HOSTS ?? ""));
  } catch (error) {
    // An address typed as such (or a metadata name) is refused as what it is. A name refused for the
    // address it resolved to gets the same answer as a name that does not resolve (the details go to
    // the log): otherwise the answer would tell which internal names exist.
    if (error instanceof BlockedDestination && !error.resolved) throw instanceIssue("instance_not_allowed", 400, `Pacer does not connect to ${new URL(instance).host}: it is not a public address.`);
    console.warn(`mastodon: not connecting to ${new URL(instance).host}: ${(error as Error).message}`);
    throw instanceIssue("instance_unreachable", 502, `Pacer could not find ${new URL(instance).host}: check the instance's name.`);
  }

  // The sign-in is begun, and counted against the user's 20 in flight, before anything is sent to the
  // instance: a start the instance fails still counts, so no user can make Pacer call a host over and over.
  const state = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const stateHash = await sha256Hex(state);
  const pkce = await createPkce();
  const begin = async (tx: Tx, verifier: string | null) => {
    try {
      await tx`select private.begin_connect(${workspaceId}, 'mastodon', ${instance}, ${redirectUri}, ${stateHash},
                                            ${verifier ? await encryptCredentials({ verifier }) : null}, ${accountId})`;
    } catch (error) {
      if ((error as { code?: string }).code === "54000") throw new PacerError(429, "too_many_sign_ins", (error as Error).message);
      fromDatabaseError(error);
    }
  };
  await asUser(user, (tx) => begin(tx, pkce.verifier));

  const signal = AbortSignal.timeout(INSTANCE_TIMEOUT_MS);
  const app = await appFor(instance, redirectUri, signal);
  const discovered = await oauth().discover(instance, { signal });
  if (discovered.kind !== "discovered") throw instanceIssue("instance_unreachable", 502, discovered.message);
  if (!discovered.pkce) {
    // An instance without PKCE refuses a code exchange that sends a verifier: the same sign-in, without one.
    await asUser(user, async (tx) => {
      await tx`select from private.take_connect_state(${stateHash})`;
      await begin(tx, null);
    });
  }
  return {
    // force_login: a browser signed in to the instance as someone who already authorized Pacer would
    // otherwise come straight back as them — no second account of the instance, and a reconnect as the wrong one.
    authorizeUrl: authorizeUrl({ instance, clientId: app.clientId, redirectUri, state, codeChallenge: discovered.pkce ? pkce.challenge : null, forceLogin: true }),
  };
}

/** The instance a connected Mastodon account lives on, from its stored credentials (a reconnect need not name it). */
async function instanceOf(accountId: string): Promise<string | undefined> {
  const [row] = await asWorker(db(), `select platform, credentials_encrypted from private.account_credentials(${literal(accountId)}::uuid)`);
  if (row?.platform !== "mastodon" || !row.credentials_encrypted) return undefined;
  return (await decryptCredentials(row.credentials_encrypted).catch(() => ({}) as Record<string, string>)).instance;
}

/** Pacer's app on the instance for this redirect URI: the one kept, else registered now and kept. */
async function appFor(instance: string, redirectUri: string, signal: AbortSignal): Promise<{ clientId: string; clientSecret: string }> {
  const kept = await keptApp(instance, redirectUri);
  if (kept) return kept;
  const registered = await oauth().registerApp(instance, { clientName: appName(), redirectUri, scopes: MASTODON_SCOPES }, { signal });
  if (registered.kind === "unavailable") throw instanceIssue("instance_unreachable", 502, registered.message);
  if (registered.kind === "refused") throw instanceIssue(registered.code, 400, registered.message);
  const sealed = await encryptCredentials({ clientSecret: registered.clientSecret });
  // Two sign-ins racing to register: the first kept wins, and both use it.
  await asWorker(
    db(),
    `insert into private.mastodon_apps (instance, redirect_uri, client_id, client_secret_encrypted, scopes)
     values (${literal(instance)}, ${literal(redirectUri)}, ${literal(registered.clientId)}, ${literal(sealed)}, ${literal(registered.scopes.join(" "))})
     on conflict do nothing`,
  );
  return (await keptApp(instance, redirectUri))!;
}

async function keptApp(instance: string, redirectUri: string): Promise<{ clientId: string; clientSecret: string } | null> {
  const [row] = await asWorker(
    db(),
    `select client_id, client_secret_encrypted from private.mastodon_apps where instance = ${literal(instance)} and redirect_uri = ${literal(redirectUri)}`,
  );
  if (!row) return null;
  const { clientSecret } = await decryptCredentials(row.client_secret_encrypted);
  return { clientId: row.client_id, clientSecret };
}

async function forgetApp(instance: string, redirectUri: string) {
  await asWorker(db(), `delete from private.mastodon_apps where instance = ${literal(instance)} and redirect_uri = ${literal(redirectUri)}`);
}

/** How a sign-in ended, for the accounts page: `error` is one of CONNECT_ERRORS' codes. */
export type ConnectResult =
  | { kind: "connected" | "reconnected"; account: Account }
  | { kind: "failed"; error: MastodonConnectError; detail?: string };

/** Every way a sign-in can fail, each with what the accounts page tells the user. */
export const CONNECT_ERRORS = [
  "state_missing", // no state in the callback: not a sign-in Pacer started
  "state_unknown", // not this user's, or already used
  "state_expired",
  "denied", // the user said no on the instance
  "instance_refused", // the instance answered the sign-in with another error
  "code_invalid",
  "app_forgotten",
  "instance_unreachable",
  "wrong_account", // a reconnect signed in as another account
  "plan_limit_reached",
  "forbidden",
  "account_exists",
  "not_connected", // anything else that stopped the add
] as const;
export type MastodonConnectError = (typeof CONNECT_ERRORS)[number];

/**
 * The callback: takes the user's sign-in by its state (once; another user's is not found), exchanges
 * the code, verifies the token, and adds the account or replaces the reconnecting one's credentials.
 * Never throws for what the user or the instance did: the result says what happened.
 */
export async function finishMastodonConnect(user: UserClaims, params: URLSearchParams): Promise<ConnectResult> {
  const failed = (error: MastodonConnectError, detail?: string): ConnectResult => ({ kind: "failed", error, ...(detail ? { detail } : {}) });
  const state = params.get("state");
  if (!state) return failed("state_missing");
  const [taken] = await asUser(user, async (tx) => tx`select * from private.take_connect_state(${await sha256Hex(state)})`);
  if (!taken || taken.platform !== "mastodon") return failed("state_unknown");
  if (taken.expired) return failed("state_expired");
  const error = params.get("error");
  if (error === "access_denied") return failed("denied");
  if (error) return failed("instance_refused", params.get("error_description")?.slice(0, 200) ?? error.slice(0, 100));
  const code = params.get("code");
  if (!code) return failed("instance_refused", "no authorization code");

  const instance: string = taken.instance;
  const redirectUri: string = taken.redirect_uri;
  const app = await keptApp(instance, redirectUri);
  if (!app) return failed("app_forgotten");
  const verifier = taken.code_verifier_encrypted ? (await decryptCredentials(taken.code_verifier_encrypted)).verifier : null;

  const signal = AbortSignal.timeout(INSTANCE_TIMEOUT_MS);
  const token = await oauth().exchangeCode({ instance, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri, code, codeVerifier: verifier }, { signal });
  if (token.kind === "unavailable") return failed("instance_unreachable", token.message);
  if (token.kind === "refused") {
    if (token.code === "invalid_client") {
      await forgetApp(instance, redirectUri);
      return failed("app_forgotten");
    }
    return failed(token.code === "invalid_grant" ? "code_invalid" : "instance_refused", token.message);
  }

  // Who signed in (verify_credentials): the account's handle is username@host.
  const credentials = { instance, accessToken: token.accessToken, clientId: app.clientId, clientSecret: app.clientSecret, scope: token.scope };
  const verified = await connectorFor("mastodon", env()).connect({ handle: "", credentials }, { signal });
  if (verified.kind === "unavailable") return failed("instance_unreachable", verified.message);
  if (verified.kind === "refused") return failed("instance_refused", verified.message);
  const username = verified.credentials.username;
  const handle = `${username}@${new URL(instance).hostname}`;
  const revokeNew = () => revokeUnused(handle, platformIdentity("mastodon", verified.credentials), credentials);

  try {
    if (taken.account_id) {
      const account = await accountToReconnect(user, taken.account_id);
      if (account.handle.toLowerCase() !== handle.toLowerCase()) {
        await revokeNew();
        return failed("wrong_account", `you signed in as @${handle}, not @${account.handle}`);
      }
      // Mastodon may hand back the very token it gave before: the old one is not revoked.
      return { kind: "reconnected", account: await replaceCredentials(user, account.id, verified.credentials) };
    }
    const account = await addConnectedAccount(
      user,
      { workspaceId: taken.workspace_id, platform: "mastodon", handle, displayName: username },
      async () => verified,
    );
    return { kind: "connected", account };
  } catch (e) {
    if (!(e instanceof PacerError)) throw e;
    if (e.code !== "account_exists") await revokeNew();
    const known = (CONNECT_ERRORS as readonly string[]).includes(e.code) ? (e.code as MastodonConnectError) : e.status === 403 ? "forbidden" : "not_connected";
    return failed(known, known === "not_connected" ? e.message : handle);
  }
}

/** A token Pacer got but will not keep: revoked, unless another Pacer account is that Mastodon user (it may be the same token). */
async function revokeUnused(handle: string, identity: string | null, c: { instance: string; accessToken: string; clientId: string; clientSecret: string }) {
  try {
    const [row] = await asWorker(db(), `select private.identity_in_use('mastodon', ${literal(identity)}, null) as used`);
    if (row?.used) return;
    await oauth().revokeToken({ instance: c.instance, clientId: c.clientId, clientSecret: c.clientSecret, token: c.accessToken }, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    console.error(`accounts: revoking an unused Mastodon token of @${handle} failed`, error);
  }
}
