// Connecting a workspace's Upload-Post accounts: its API key (sealed, set by admins and owners, never
// returned), the key's profiles and their connected platforms, importing them as Pacer accounts
// through the one add path, links to Upload-Post's hosted connect page, and reconnecting. Every step
// is authorised in the database as the acting user (private.require_workspace_role in each function), and no
// transaction stays open while Upload-Post answers.
import { z } from "zod";
import { asUser, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { createUploadPostSetup, type SetupResult } from "@/lib/connectors/upload-post";
import { UPLOAD_POST_PLATFORMS, connectorFor, connectorKind, enabledConnectors, platformEnabled } from "@/lib/connectors/registry";
import { connectAccount, type Account } from "./index";
import { decryptCredentials, encryptCredentials } from "./credentials";

/** How long one Upload-Post call may keep a request waiting. */
const UPLOAD_POST_TIMEOUT_MS = 10_000;
const PLATFORMS = [...UPLOAD_POST_PLATFORMS];

/** What an account shows after the workspace's key was removed (docs/connectors.md, "Connecting"). */
export const KEY_REMOVED_REASON =
  "The workspace's Upload-Post API key was removed. An admin sets a key again (Accounts → Upload-Post), then reconnect this account.";

/** What an account shows when the key was replaced but its own credentials could not be read. */
export const UNREADABLE_REASON =
  "Pacer could not read this account's stored credentials when the workspace's Upload-Post API key was replaced: remove it and import it again.";

/** Sealed credentials, or null when this server cannot read them (sealed with a key it no longer holds). */
async function readable(sealed: string): Promise<Record<string, string> | null> {
  try {
    return await decryptCredentials(sealed);
  } catch {
    return null;
  }
}

export interface UploadPostKeyStatus {
  /** The key's last 4 characters: enough to recognise it, never the key. */
  last4: string;
  setAt: string;
}

export interface UploadPostPlatform {
  platform: string;
  handle: string;
  displayName: string;
  /** Upload-Post says the platform's token died: reconnect it there (a connect link). */
  needsReconnect: boolean;
  /** Whether this installation offers the platform (PACER_CONNECTORS). */
  offered: boolean;
  /** The Pacer account it already is, if any. */
  account: { id: string; state: string } | null;
}

export interface UploadPostOverview {
  workspaceId: string;
  key: UploadPostKeyStatus | null;
  /** Admins and owners may set, replace or remove the key. */
  canManageKey: boolean;
  profiles: { username: string; platforms: UploadPostPlatform[] }[];
  /** Upload-Post refused or could not be reached: what to fix. */
  problem: { code: string; message: string } | null;
}

export type ImportOutcome = "added" | "already_connected" | "refused_by_plan" | "not_offered" | "not_connected" | "needs_reconnect" | "failed";

export interface ImportResult {
  profile: string;
  platform: string;
  handle: string | null;
  outcome: ImportOutcome;
  message: string;
  account?: Account;
}

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").optional();
const profile = z
  .string()
  .trim()
  .min(1, "Name the Upload-Post profile.")
  .max(64, "A profile name has at most 64 characters.")
  .regex(/^[A-Za-z0-9_-]+$/, "A profile name may contain letters, digits, _ and - only.");

export const keyInput = z.strictObject({
  workspaceId,
  apiKey: z
    .string()
    .trim()
    .min(8, "Paste the whole Upload-Post API key (Upload-Post dashboard → API Keys).")
    .max(2048, "An Upload-Post API key has at most 2048 characters.")
    .regex(/^[\x21-\x7e]+$/, "An Upload-Post API key is printable ASCII without spaces."),
});
export const importInput = z.strictObject({
  workspaceId,
  selections: z
    .array(z.strictObject({ profile, platform: z.string().trim().toLowerCase().min(1, "Choose a platform.") }))
    .min(1, "Choose at least one account to import.")
    .max(50, "Import at most 50 accounts at a time."),
});
export const connectLinkInput = z.strictObject({ workspaceId, profile });
export const reconnectInput = z.strictObject({ accountId: z.uuid("accountId must be an account id (a UUID).") });
export const workspaceOnlyInput = z.strictObject({ workspaceId });

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw validationFailed(parsed.error, what);
  return parsed.data;
}

/** The connect steps against the operator's Upload-Post; 404 when this installation does not offer it. */
function uploadPost() {
  if (!enabledConnectors(process.env).has("upload-post")) {
    throw new PacerError(404, "upload_post_not_enabled", "Upload-Post is not enabled in this installation (the operator's PACER_CONNECTORS).");
  }
  return createUploadPostSetup({ baseUrl: process.env.PACER_UPLOAD_POST_URL || undefined, allowedHosts: process.env.PACER_ALLOWED_HOSTS ?? "" });
}

const timeout = () => AbortSignal.timeout(UPLOAD_POST_TIMEOUT_MS);

/** Upload-Post said no, as an error the user can act on. */
function refused(result: Extract<SetupResult<unknown>, { ok: false }>): PacerError {
  if (result.code === "platform_unreachable") return new PacerError(502, "platform_unreachable", result.message);
  if (result.code === "api_key_invalid") {
    const message = `${result.message} Copy a current key from Upload-Post's dashboard (API Keys) and paste it here.`;
    return new PacerError(400, "api_key_invalid", message, [{ path: "apiKey", message }]);
  }
  const status = /^upload_post_5/.test(result.code) ? 502 : 400;
  return new PacerError(status, result.code, result.message, result.field ? [{ path: result.field, message: result.message }] : undefined);
}

/** Runs `fn` as the server's role inside the user's transaction: the functions it calls check the user's claims. */
async function asServer<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  await tx`select set_config('role', 'pacer_worker', true)`;
  const result = await fn();
  await tx`select set_config('role', 'authenticated', true)`;
  return result;
}

const forbidden = (role: "editor" | "admin", action: string) =>
  new PacerError(403, "forbidden", `Only ${role === "admin" ? "admins and owners" : "editors, admins and owners"} of this workspace can ${action}.`);

/** In the user's transaction: the workspace they act on, refused in the database below `role`. */
function inWorkspace<T>(
  user: UserClaims,
  requested: string | null | undefined,
  role: "editor" | "admin",
  action: string,
  fn: (tx: Tx, workspaceId: string) => Promise<T>,
): Promise<T> {
  return asUser(user, async (tx) => {
    try {
      const ws = await resolveWorkspaceId(tx, requested);
      // Asked first so nothing reaches Upload-Post for a weaker role; the functions fn calls check again.
      const [may] = await tx`select private.has_role_on_workspace(${ws}, ${role}) as yes`;
      if (!may.yes) throw forbidden(role, action);
      return await fn(tx, ws);
    } catch (error) {
      if (error instanceof PacerError) throw error;
      if ((error as { code?: string }).code === "42501") throw forbidden(role, action);
      return fromDatabaseError(error);
    }
  });
}

/** The workspace's key in plain text (for the server's calls only), or null when none is set. */
async function readKey(tx: Tx, ws: string): Promise<string | null> {
  const [row] = await asServer(tx, () => tx`select private.upload_post_key(${ws}) as sealed`);
  return row.sealed ? (await decryptCredentials(row.sealed)).apiKey : null;
}

const noKey = () =>
  new PacerError(409, "upload_post_key_missing", "This workspace has no Upload-Post API key yet: an admin or owner sets one first (Accounts → Upload-Post).");

async function keyStatus(tx: Tx, ws: string): Promise<UploadPostKeyStatus | null> {
  const [row] = await tx`select key_last4, set_at from public.upload_post_keys where workspace_id = ${ws}`;
  return row ? { last4: row.key_last4, setAt: row.set_at.toISOString() } : null;
}

/** The workspace's accounts on Upload-Post's platforms, with their sealed credentials (server only). */
function uploadPostAccounts(tx: Tx, ws: string, accountId: string | null = null) {
  return asServer(tx, () => tx`select * from private.upload_post_accounts(${ws}, ${tx.array(PLATFORMS)}::text[], ${accountId})`);
}

/** The workspace's accounts on Upload-Post's platforms, as the user sees them (RLS). */
function accountsOnUploadPostPlatforms(tx: Tx, ws: string) {
  return tx`select id, platform, handle, state from public.social_accounts
            where workspace_id = ${ws} and platform = any(${tx.array(PLATFORMS)}::text[])`;
}

const sameHandle = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** What the accounts page shows: the key's status, and each profile's platforms marked as in Pacer and offered. */
export async function uploadPostOverview(user: UserClaims, requested?: string | null): Promise<UploadPostOverview> {
  const setup = uploadPost();
  const { ws, apiKey, key, canManageKey, existing } = await inWorkspace(user, requested, "editor", "connect Upload-Post accounts", async (tx, ws) => {
    const [admin] = await tx`select private.has_role_on_workspace(${ws}, 'admin') as yes`;
    const existing = await accountsOnUploadPostPlatforms(tx, ws);
    return { ws, apiKey: await readKey(tx, ws), key: await keyStatus(tx, ws), canManageKey: admin.yes as boolean, existing };
  });
  const overview: UploadPostOverview = { workspaceId: ws, key, canManageKey, profiles: [], problem: null };
  if (!apiKey) return overview;

  const listed = await setup.profiles(apiKey, timeout());
  if (!listed.ok) return { ...overview, problem: { code: listed.code, message: refused(listed).message } };
  overview.profiles = listed.value.map((p) => ({
    username: p.username,
    platforms: p.accounts
      // Bluesky through Upload-Post is left to Pacer's own Bluesky connector.
      .filter((a) => connectorKind(a.platform) === "upload-post")
      .map((a) => {
        const match = existing.find((e) => e.platform === a.platform && sameHandle(e.handle, a.handle));
        return {
          ...a,
          offered: platformEnabled(a.platform, process.env),
          account: match ? { id: match.id as string, state: match.state as string } : null,
        };
      }),
  }));
  return overview;
}

/**
 * Sets or replaces the key (admins and owners): refused before Upload-Post is asked when the role is
 * too weak, refused with what to fix when Upload-Post does not accept it, then stored sealed with the
 * workspace's Upload-Post accounts re-sealed to use it, in one transaction.
 */
export async function setUploadPostKey(user: UserClaims, input: unknown): Promise<UploadPostKeyStatus & { plan: string | null; email: string | null }> {
  const { workspaceId: requested, apiKey } = parse(keyInput, input, "The Upload-Post key");
  const setup = uploadPost();
  const action = "set the Upload-Post API key";
  const ws = await inWorkspace(user, requested, "admin", action, async (_tx, ws) => ws);

  const checked = await setup.checkKey(apiKey, timeout());
  if (!checked.ok) throw refused(checked);

  const sealedKey = await encryptCredentials({ apiKey });
  const stored = await inWorkspace(user, ws, "admin", action, async (tx) => {
    const accounts = await uploadPostAccounts(tx, ws);
    const resealed: { id: string; sealed: string }[] = [];
    // Credentials the server cannot read cannot take the new key: they are replaced by the platform
    // alone and the account waits to be reconnected, so a leaked key can always be replaced.
    const unreadable: { id: string; sealed: string }[] = [];
    for (const a of accounts) {
      if (!a.credentials_sealed) continue;
      const credentials = await readable(a.credentials_sealed);
      if (credentials) resealed.push({ id: a.id, sealed: await encryptCredentials({ ...credentials, apiKey }) });
      else unreadable.push({ id: a.id, sealed: await encryptCredentials({ platform: a.platform }) });
    }
    const [row] = await asServer(
      tx,
      () => tx`select * from private.set_upload_post_key(${ws}, ${sealedKey}, ${apiKey.slice(-4)}, ${tx.json(resealed)})`,
    );
    if (unreadable.length > 0) {
      await asServer(tx, () => tx`select private.hold_upload_post_accounts(${ws}, ${tx.json(unreadable)}, ${UNREADABLE_REASON})`);
    }
    return row;
  });
  return { last4: stored.key_last4, setAt: stored.set_at.toISOString(), ...checked.value };
}

/**
 * Removes the key (admins and owners). The accounts that used it forget it too: they keep which
 * profile and platform they are and wait in needs_reconnect until a key is set and they are reconnected.
 */
export async function removeUploadPostKey(user: UserClaims, input: unknown): Promise<{ accountsNeedingReconnect: number }> {
  const { workspaceId: requested } = parse(workspaceOnlyInput, input, "The request");
  uploadPost(); // Only to answer 404 where Upload-Post is not enabled: removing asks Upload-Post nothing.
  return inWorkspace(user, requested, "admin", "remove the Upload-Post API key", async (tx, ws) => {
    const accounts = await uploadPostAccounts(tx, ws);
    const stripped: { id: string; sealed: string }[] = [];
    for (const a of accounts) {
      // Unreadable credentials are dropped all the same: removing a key never fails on them.
      const credentials = (a.credentials_sealed ? await readable(a.credentials_sealed) : null) ?? {};
      stripped.push({ id: a.id, sealed: await encryptCredentials({ profile: credentials.profile ?? "", platform: credentials.platform ?? a.platform }) });
    }
    const [row] = await asServer(
      tx,
      () => tx`select private.remove_upload_post_key(${ws}, ${tx.json(stripped)}, ${KEY_REMOVED_REASON}) as moved`,
    );
    return { accountsNeedingReconnect: row.moved as number };
  });
}

/**
 * Imports the chosen profile platforms as Pacer accounts, one at a time through the one add path
 * (the plan's cap holds in the database), and says per selection what happened. A selection that is
 * refused leaves nothing behind and stops nothing else.
 */
export async function importUploadPostAccounts(user: UserClaims, input: unknown): Promise<{ workspaceId: string; results: ImportResult[] }> {
  const { workspaceId: requested, selections } = parse(importInput, input, "The import");
  const setup = uploadPost();
  const { ws, apiKey, existing } = await inWorkspace(user, requested, "editor", "connect Upload-Post accounts", async (tx, ws) => ({
    ws,
    apiKey: await readKey(tx, ws),
    existing: await accountsOnUploadPostPlatforms(tx, ws),
  }));
  if (!apiKey) throw noKey();
  const listed = await setup.profiles(apiKey, timeout());
  if (!listed.ok) throw refused(listed);

  const results: ImportResult[] = [];
  const seen = new Set<string>();
  for (const { profile, platform } of selections) {
    if (seen.has(`${profile}/${platform}`)) continue;
    seen.add(`${profile}/${platform}`);
    const social = listed.value.find((p) => p.username === profile)?.accounts.find((a) => a.platform === platform);
    const row = (outcome: ImportOutcome, message: string, account?: Account): ImportResult => ({
      profile,
      platform,
      handle: social?.handle ?? null,
      outcome,
      message,
      ...(account ? { account } : {}),
    });
    if (connectorKind(platform) !== "upload-post" || !platformEnabled(platform, process.env)) {
      results.push(row("not_offered", `This installation does not offer ${platform} accounts (the operator's PACER_CONNECTORS).`));
    } else if (!social) {
      results.push(row("not_connected", `Profile "${profile}" has no ${platform} account connected on Upload-Post: connect it there first (Connect more accounts).`));
    } else if (existing.some((e) => e.platform === platform && sameHandle(e.handle, social.handle))) {
      // Before the add: at the plan's cap the database would refuse it by plan first.
      results.push(row("already_connected", `@${social.handle} on ${platform} is already in this workspace.`));
    } else if (social.needsReconnect) {
      results.push(row("needs_reconnect", `Upload-Post needs ${profile}'s ${platform} account reconnected first: open Connect more accounts for "${profile}".`));
    } else {
      try {
        const account = await connectAccount(user, {
          workspaceId: ws,
          platform,
          handle: social.handle,
          displayName: social.displayName.slice(0, 100),
          credentials: { apiKey, profile, platform },
        });
        results.push(row("added", `@${account.handle} on ${platform} was added.`, account));
      } catch (error) {
        if (!(error instanceof PacerError)) {
          console.error(`upload-post import: ${profile}/${platform} failed`, error);
          results.push(row("failed", "Pacer could not add this account just now; nothing was kept. Try again in a moment."));
        } else if (error.code === "plan_limit_reached") {
          results.push(row("refused_by_plan", error.message));
        } else if (error.code === "account_exists") {
          results.push(row("already_connected", `@${social.handle} on ${platform} is already in this workspace.`));
        } else {
          results.push(row("failed", error.message));
        }
      }
    }
  }
  return { workspaceId: ws, results };
}

/**
 * A single-use link (48 h) to Upload-Post's hosted page where the user connects more platforms to a
 * profile (created when it does not exist yet); it returns to `returnTo`.
 */
export async function uploadPostConnectLink(user: UserClaims, input: unknown, returnTo: string): Promise<{ profile: string; url: string; profileCreated: boolean }> {
  const { workspaceId: requested, profile: name } = parse(connectLinkInput, input, "The request");
  const setup = uploadPost();
  const apiKey = await inWorkspace(user, requested, "editor", "connect Upload-Post accounts", readKey);
  if (!apiKey) throw noKey();
  const ensured = await setup.ensureProfile(apiKey, name, timeout());
  if (!ensured.ok) throw refused(ensured);
  const link = await setup.connectLink(apiKey, name, returnTo, timeout());
  if (!link.ok) throw refused(link);
  return { profile: name, url: link.value.url, profileCreated: ensured.value.created };
}

/**
 * Reconnects an Upload-Post account waiting in needs_reconnect: when Upload-Post has its platform
 * connected again, the account is connected with the workspace's current key; otherwise the answer
 * is a new connect link for its profile (press Reconnect again after using it).
 */
export async function reconnectUploadPostAccount(
  user: UserClaims,
  input: unknown,
  returnTo: string,
): Promise<{ reconnected: true; accountId: string } | { reconnected: false; url: string; message: string }> {
  const { accountId } = parse(reconnectInput, input, "The request");
  const setup = uploadPost();
  const found = await asUser(user, async (tx) => {
    const [visible] = await tx`select workspace_id from public.social_accounts where id = ${accountId}`;
    return visible ? (visible.workspace_id as string) : null;
  });
  if (!found) throw notFound("Account");
  const { ws, apiKey, account } = await inWorkspace(user, found, "editor", "reconnect accounts", async (tx, ws) => {
    const [account] = await uploadPostAccounts(tx, ws, accountId);
    return { ws, apiKey: await readKey(tx, ws), account };
  });
  if (!account) throw new PacerError(400, "not_upload_post", "This account is not connected through Upload-Post.");
  if (account.state !== "needs_reconnect") {
    throw new PacerError(409, "account_not_waiting", `@${account.handle} is ${account.state}: there is nothing to reconnect.`);
  }
  if (!apiKey) throw noKey();
  const stored = account.credentials_sealed ? await decryptCredentials(account.credentials_sealed) : {};
  if (!stored.profile) {
    throw new PacerError(409, "profile_unknown", `Pacer does not know which Upload-Post profile @${account.handle} belongs to: remove it and import it again.`);
  }
  const credentials = { apiKey, profile: stored.profile, platform: account.platform };

  const connection = await connectorFor(account.platform, process.env).connect({ handle: account.handle, credentials }, { signal: timeout() });
  if (connection.kind === "unavailable") throw new PacerError(502, "platform_unreachable", connection.message);
  if (connection.kind === "refused") {
    if (connection.code !== "platform_needs_reconnect" && connection.code !== "platform_not_connected") {
      throw new PacerError(400, connection.code, connection.message, [{ path: connection.field, message: connection.message }]);
    }
    const link = await setup.connectLink(apiKey, stored.profile, returnTo, timeout());
    if (!link.ok) throw refused(link);
    return { reconnected: false, url: link.value.url, message: `${connection.message} Open the link, connect it, then press Reconnect again.` };
  }
  const sealed = await encryptCredentials(connection.credentials);
  await inWorkspace(user, ws, "editor", "reconnect accounts", (tx) =>
    asServer(tx, () => tx`select id from private.connect_account(${accountId}, ${sealed})`),
  );
  return { reconnected: true, accountId };
}
