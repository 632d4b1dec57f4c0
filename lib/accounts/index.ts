// Social accounts of a workspace: list, add (capped by the plan, in the database, and connected on
// the platform as its owner would, with no transaction open across the platform's answer), rename, remove.
import { z } from "zod";
import { asUser, asWorker, db, literal, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { UPLOAD_POST_PLATFORMS, connectorFor, platformEnabled } from "@/lib/connectors/registry";
import type { Connection } from "@/lib/connectors/types";
import { blueskyCredentials } from "./bluesky";
import { decryptCredentials, encryptCredentials } from "./credentials";
import { platformIdentity } from "./identity";
import { endPlatformSession } from "./sessions";
import { HEALTH_BANDS, accountListQuery, bulkAccountsInput, removalPreviewInput, type AccountListQuery } from "./input";

export const ACCOUNT_STATES = ["connected", "active", "paused", "restricted", "needs_reconnect", "needs_review"] as const;

export interface Account {
  id: string;
  workspaceId: string;
  platform: string;
  handle: string;
  displayName: string;
  state: (typeof ACCOUNT_STATES)[number];
  cooldownUntil: string | null;
  requiresReview: boolean;
  lastError: string | null;
  healthScore: number;
  /** Why a paused account is paused: the plan's limit, its health, a person, or its removal. */
  pausedReason: "plan_limit" | "health" | "manual" | "removed" | null;
  /** When the account was removed (archived): it publishes nothing, and its posted items stay. */
  archivedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

// The columns an API caller may see: never credentials_encrypted.
const COLUMNS = `id, workspace_id, platform, handle, display_name, state, cooldown_until, requires_review,
                 last_error, health_score, paused_reason, archived_at, created_at, updated_at`;

function toAccount(r: Row): Account {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    platform: r.platform,
    handle: r.handle,
    displayName: r.display_name,
    state: r.state,
    cooldownUntil: r.cooldown_until?.toISOString() ?? null,
    requiresReview: r.requires_review,
    lastError: r.last_error,
    healthScore: r.health_score,
    pausedReason: r.paused_reason ?? null,
    archivedAt: r.archived_at?.toISOString() ?? null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const handle = z
  .string()
  .trim()
  .transform((h) => h.replace(/^@/, ""))
  .pipe(
    z
      .string()
      .min(1, "Enter the account's handle.")
      .max(100, "A handle has at most 100 characters.")
      .regex(/^[\w.@-]+$/, "A handle may contain letters, digits, and _ . @ - only."),
  );
const displayName = z.string().trim().min(1, "Enter a display name.").max(100, "A display name has at most 100 characters.");

export const newAccountInput = z.object({
  platform: z.string().trim().toLowerCase().min(1, "Choose a platform."),
  handle,
  displayName: displayName.optional(),
  // Checked against the platform's own shape below: a tenant never names an endpoint.
  credentials: z.record(z.string(), z.unknown()).optional(),
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").optional(),
});

/**
 * What a user may supply to connect an account, per platform: only what its connector reads.
 * Sandbox: the handle's access token, needed only when the handle already exists on the sandbox.
 */
const CREDENTIALS: Record<string, z.ZodType<Record<string, string>>> = {
  sandbox: z
    .strictObject(
      {
        accessToken: z
          .string()
          .trim()
          .max(512, "An access token has at most 512 characters.")
          .regex(/^[\x21-\x7e]*$/, "An access token is printable ASCII without spaces.")
          .optional(),
      },
      { error: (issue) => (issue.code === "unrecognized_keys" ? `Sandbox accounts take only an accessToken; remove ${issue.keys.join(", ")}.` : undefined) },
    )
    .transform((c): Record<string, string> => (c.accessToken ? { accessToken: c.accessToken } : {})),
  bluesky: blueskyCredentials,
};

/**
 * Platforms whose accounts are connected another way than this input: Mastodon through the
 * instance's sign-in (lib/accounts/mastodon.ts), the Upload-Post platforms by importing them from the
 * workspace's Upload-Post profiles (lib/accounts/upload-post.ts).
 */
const SIGN_IN_PLATFORMS: Record<string, string> = {
  mastodon: "Mastodon accounts are connected through their instance's sign-in: use Connect Mastodon on the accounts page (POST /api/accounts/mastodon/connect).",
  ...Object.fromEntries(UPLOAD_POST_PLATFORMS.map((platform) => [platform,
    "This platform is reached through Upload-Post: import the account from the workspace's Upload-Post profiles on the accounts page (POST /api/upload-post/import)."])),
};

/** How long connecting may keep the add waiting on the platform. */
const CONNECT_TIMEOUT_MS = 10_000;

export const accountChanges = z
  .object({ handle: handle.optional(), displayName: displayName.optional() })
  .strict()
  .refine((c) => c.handle !== undefined || c.displayName !== undefined, "Send a new handle or displayName.");

const accountId = z.uuid();

export interface AccountPage {
  workspaceId: string;
  accounts: Account[];
  /** How many accounts match the query, over every page. */
  total: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * The workspace's accounts, oldest first: live ones unless `state` is "removed". Search (handle or
 * name), filters (platform, state, health band, group) and keyset pages (`limit`, `cursor`); without
 * a limit, every matching account (the plan caps live accounts at 1,000).
 */
export function listAccounts(user: UserClaims, requestedWorkspaceId?: string | null, query: AccountListQuery = {}): Promise<AccountPage> {
  const parsed = accountListQuery.safeParse({ ...query, workspaceId: requestedWorkspaceId ?? query.workspaceId });
  if (!parsed.success) throw validationFailed(parsed.error, "The account query");
  const f = parsed.data;
  const after = f.cursor ? decodeAccountCursor(f.cursor) : null;
  const band = f.health ? HEALTH_BANDS[f.health] : null;
  const needle = f.q?.replace(/^@/, "");
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, f.workspaceId);
    const rows = await tx`
      select ${tx.unsafe(COLUMNS)}, count(*) over ()::int as total,
             (extract(epoch from a.created_at) * 1000000)::bigint::text as created_us
      from public.social_accounts a
      where a.workspace_id = ${workspaceId}
        ${f.state === "removed" ? tx`and a.archived_at is not null` : tx`and a.archived_at is null`}
        ${f.state && f.state !== "removed" ? tx`and a.state = ${f.state}` : tx``}
        ${f.platform ? tx`and a.platform = ${f.platform}` : tx``}
        ${band ? tx`and a.health_score between ${band.min} and ${band.max}` : tx``}
        ${needle ? tx`and (a.handle ilike ${"%" + likeEscape(needle) + "%"} or a.display_name ilike ${"%" + likeEscape(needle) + "%"})` : tx``}
        ${f.groupId ? tx`and a.id in (select m.account_id from public.account_group_members m where m.group_id = ${f.groupId})` : tx``}
        ${after ? tx`and (a.created_at, a.id) > ('epoch'::timestamptz + ${after.createdUs}::bigint * interval '1 microsecond', ${after.id}::uuid)` : tx``}
      order by a.created_at, a.id
      ${f.limit ? tx`limit ${f.limit + 1}` : tx``}`;
    const page = f.limit ? rows.slice(0, f.limit) : rows;
    const last = page.at(-1);
    // A keyset page's total counts what is after the cursor: add the rows before it once, on the first page only.
    const total = after ? await countMatching(tx, workspaceId, f, band, needle) : (rows[0]?.total ?? 0);
    return {
      workspaceId,
      accounts: page.map(toAccount),
      total,
      nextCursor: f.limit && rows.length > f.limit && last ? encodeAccountCursor(last) : null,
    };
  });
}

async function countMatching(tx: Tx, workspaceId: string, f: ReturnType<typeof accountListQuery.parse>, band: { min: number; max: number } | null, needle?: string) {
  const [row] = await tx`
    select count(*)::int as n from public.social_accounts a
    where a.workspace_id = ${workspaceId}
      ${f.state === "removed" ? tx`and a.archived_at is not null` : tx`and a.archived_at is null`}
      ${f.state && f.state !== "removed" ? tx`and a.state = ${f.state}` : tx``}
      ${f.platform ? tx`and a.platform = ${f.platform}` : tx``}
      ${band ? tx`and a.health_score between ${band.min} and ${band.max}` : tx``}
      ${needle ? tx`and (a.handle ilike ${"%" + likeEscape(needle) + "%"} or a.display_name ilike ${"%" + likeEscape(needle) + "%"})` : tx``}
      ${f.groupId ? tx`and a.id in (select m.account_id from public.account_group_members m where m.group_id = ${f.groupId})` : tx``}`;
  return row.n as number;
}

/** A search string taken literally: % and _ are not wildcards. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The last row's place: its created_at in microseconds (a JS Date keeps only milliseconds) and its id. */
function encodeAccountCursor(r: Row): string {
  return Buffer.from(JSON.stringify([r.created_us, r.id])).toString("base64url");
}

function decodeAccountCursor(cursor: string): { createdUs: string; id: string } {
  try {
    const [createdUs, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof createdUs === "string" && /^-?\d{1,18}$/.test(createdUs) && z.uuid().safeParse(id).success) return { createdUs, id };
  } catch {
    // answered below
  }
  throw new PacerError(400, "validation_failed", "The cursor is not one this list handed out.", [
    { path: "cursor", message: "Pass the nextCursor of the page before, unchanged." },
  ]);
}

export async function addAccount(user: UserClaims, input: unknown): Promise<Account> {
  const parsed = newAccountInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The account");
  const { platform } = parsed.data;
  // Bluesky handles are case-insensitive; the database stores them lower case (so does this reply).
  const accountHandle = platform === "bluesky" ? parsed.data.handle.toLowerCase() : parsed.data.handle;
  const shape = CREDENTIALS[platform];
  const supplied = shape?.safeParse(parsed.data.credentials ?? {});
  if (supplied && !supplied.success) throw validationFailed(withPrefix(supplied.error, "credentials"), "The account");
  return connectAccount(user, {
    workspaceId: parsed.data.workspaceId,
    platform,
    handle: accountHandle,
    displayName: parsed.data.displayName,
    credentials: supplied?.data ?? null,
  });
}

/**
 * Adds an account whose credentials the server has already checked in shape (addAccount's parsing,
 * or a connect flow such as Upload-Post's import) and that the platform's connector connects.
 * null credentials: this platform is not connected by input (a sign-in platform, or none yet).
 */
export async function connectAccount(
  user: UserClaims,
  input: { workspaceId?: string | null; platform: string; handle: string; displayName?: string; credentials: Record<string, string> | null },
): Promise<Account> {
  const { platform, handle: accountHandle, credentials } = input;
  return addConnectedAccount(
    user,
    { workspaceId: input.workspaceId, platform, handle: accountHandle, displayName: input.displayName },
    (signal) => connectorFor(platform, process.env).connect({ handle: accountHandle, credentials: credentials! }, { signal }),
    { acceptsInput: credentials !== null },
  );
}

/**
 * The one way an account is added, whatever connects it (the add form's input, a platform's sign-in):
 * (a) the row, as the user — RLS (editors and up), the plan's limit and a duplicate are all refused
 * in the database — committed waiting in needs_reconnect, so it cannot publish before (c);
 * (b) `connect`, outside any transaction; (c) the sealed credentials and the connected state.
 */
export async function addConnectedAccount(
  user: UserClaims,
  target: { workspaceId?: string | null; platform: string; handle: string; displayName?: string },
  connect: (signal: AbortSignal) => Promise<Connection>,
  opts: { acceptsInput?: boolean } = {},
): Promise<Account> {
  const { platform, handle: accountHandle } = target;
  const pending = await asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, target.workspaceId);
    const [p] = await tx`select name, enabled from public.platforms where id = ${platform}`;
    if (!p) {
      throw new PacerError(400, "validation_failed", `There is no platform called "${platform}".`, [
        { path: "platform", message: `Unknown platform "${platform}".` },
      ]);
    }
    // The platform has a connector (the database's flag) and this installation offers it (PACER_CONNECTORS).
    if (!p.enabled || !platformEnabled(platform, process.env)) {
      throw new PacerError(400, "platform_unavailable", `Connecting ${p.name} accounts is not available in this installation.`, [
        { path: "platform", message: `${p.name} cannot be connected here; use sandbox.` },
      ]);
    }
    if (opts.acceptsInput === false) {
      const how = SIGN_IN_PLATFORMS[platform];
      throw new PacerError(400, how ? "connect_via_sign_in" : "platform_unavailable", how ?? `Connecting ${p.name} accounts is not available yet.`, [
        { path: "platform", message: how ?? `${p.name} cannot be connected yet; use sandbox.` },
      ]);
    }
    const [row] = await insertAccount(tx, {
      workspaceId,
      platform,
      handle: accountHandle,
      displayName: target.displayName ?? accountHandle,
    });
    // The server's role for this one call: a user's role cannot set an account's state.
    await tx`select set_config('role', 'pacer_worker', true)`;
    await tx`select private.hold_unconnected_account(${row.id}, ${`Connecting @${accountHandle} on ${p.name}…`})`;
    return { id: row.id as string, platformName: p.name as string };
  });

  // (b) The platform, outside any transaction: no connection is held while it answers.
  let connection;
  try {
    connection = await connect(AbortSignal.timeout(CONNECT_TIMEOUT_MS));
  } catch (error) {
    await discardUnconnected(pending.id);
    throw error;
  }
  if (connection.kind !== "connected") {
    await discardUnconnected(pending.id);
    throw connectionRefused(connection);
  }

  // (c) The credentials, the identity and the connected state, in one statement.
  try {
    return toAccount(await storeConnection(pending.id, connection.credentials, `@${accountHandle} on ${pending.platformName}`, { identity: platformIdentity(platform, connection.credentials) }));
  } catch (error) {
    if (error instanceof PacerError && error.code === "account_exists") {
      // The same identity is already here: nothing of this add is kept, its new session neither
      // (`shared`: a Mastodon token may be the other account's own, and is kept).
      await discardUnconnected(pending.id);
      await endPlatformSession(platform, accountHandle, connection.credentials, { id: pending.id, shared: true });
    }
    throw error;
  }
}


/** What a platform that did not connect said, as the reply to the user (what failed in detail goes to the log). */
function connectionRefused(connection: Exclude<Connection, { kind: "connected" }>): PacerError {
  if (connection.kind === "unavailable") {
    if (connection.detail) console.warn(`accounts: connect failed: ${connection.detail}`);
    return new PacerError(502, "platform_unreachable", connection.message);
  }
  return new PacerError(connection.code === "handle_taken" ? 409 : 400, connection.code, connection.message, [
    { path: connection.field, message: connection.message },
  ]);
}

export const reconnectInput = z.object({ credentials: z.record(z.string(), z.unknown()).optional() }).strict();

/**
 * Reconnect an account (expired token, revoked app password) with new input: the platform is asked
 * again and the account's credentials are replaced — it stays the same account, with its queue and
 * history. Editors and up, checked in the database. The old session is ended afterwards, best effort.
 */
export async function reconnectAccount(user: UserClaims, id: string, input: unknown): Promise<Account> {
  const parsed = reconnectInput.safeParse(input ?? {});
  if (!parsed.success) throw validationFailed(parsed.error, "The reconnect");
  const account = await accountToReconnect(user, id);
  const shape = CREDENTIALS[account.platform];
  if (!shape) {
    const how = SIGN_IN_PLATFORMS[account.platform];
    throw new PacerError(400, how ? "connect_via_sign_in" : "platform_unavailable", how ?? "This account cannot be reconnected here.");
  }
  const supplied = shape.safeParse(parsed.data.credentials ?? {});
  if (!supplied.success) throw validationFailed(withPrefix(supplied.error, "credentials"), "The reconnect");
  const connection = await connectorFor(account.platform, process.env).connect(
    { handle: account.handle, credentials: supplied.data },
    { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) },
  );
  if (connection.kind !== "connected") throw connectionRefused(connection);
  // The stored handle can be edited (and a Bluesky handle can pass to another account): the new
  // session must be the identity the account was connected as, or its queue and history would be
  // checked against another account's posts (and could be published again).
  const pinned = account.identity ?? (await storedIdentity(id, account.platform));
  const signedIn = platformIdentity(account.platform, connection.credentials);
  if (pinned && signedIn !== pinned) {
    await endPlatformSession(account.platform, account.handle, connection.credentials, { id, shared: false });
    const message = `This account is the Bluesky account ${pinned}, but @${account.handle} is now ${signedIn ?? "another account"}. To reconnect it, set its handle here to ${pinned}'s current handle and use one of that account's app passwords; to post as @${account.handle}, add it as a new account.`;
    throw new PacerError(409, "wrong_account", message, [{ path: "handle", message: `Sign in as ${pinned}.` }]);
  }
  return replaceCredentials(user, id, connection.credentials, { endOldSession: true });
}

/** The identity of an account connected before identities were stored: read from its credentials. */
async function storedIdentity(id: string, platform: string): Promise<string | null> {
  const old = await sealedCredentials(id);
  return old?.credentials ? platformIdentity(platform, old.credentials) : null;
}

/**
 * The account a reconnect may replace the credentials of: visible to the user (RLS) and the user an
 * editor or more of its workspace (checked by the database's own role test).
 */
export async function accountToReconnect(
  user: UserClaims,
  id: string,
): Promise<{ id: string; workspaceId: string; platform: string; handle: string; identity: string | null }> {
  if (!accountId.safeParse(id).success) throw notFound("Account");
  return asUser(user, async (tx) => {
    const [row] = await tx`
      select id, workspace_id, platform, handle, platform_identity, archived_at, private.has_role_on_workspace(workspace_id, 'editor') as may
      from public.social_accounts where id = ${id}`;
    if (!row) throw notFound("Account");
    if (row.archived_at) throw accountRemoved(row.handle);
    if (!row.may) throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to reconnect accounts.");
    return { id: row.id, workspaceId: row.workspace_id, platform: row.platform, handle: row.handle, identity: row.platform_identity };
  });
}

/**
 * New credentials for an account the user may reconnect (accountToReconnect): stored sealed, and an
 * account waiting in needs_reconnect is connected again. `endOldSession`: the credentials replaced
 * are ended on the platform afterwards, best effort (not for Mastodon, whose new token may be the old one).
 */
export async function replaceCredentials(
  user: UserClaims,
  id: string,
  credentials: Record<string, string>,
  opts: { endOldSession?: boolean } = {},
): Promise<Account> {
  const account = await accountToReconnect(user, id);
  const old = opts.endOldSession ? await sealedCredentials(id) : null;
  const row = await storeConnection(id, credentials, `@${account.handle}`, { reconnect: true, identity: platformIdentity(account.platform, credentials) });
  if (old?.credentials) await endPlatformSession(account.platform, account.handle, old.credentials, { id, shared: old.shared });
  return toAccount(row);
}

/** The account's decrypted credentials, read by the server's role (never returned to a user). */
async function sealedCredentials(id: string): Promise<{ credentials: Record<string, string> | null; shared: boolean; platform: string; handle: string } | null> {
  const [row] = await asWorker(db(), `select * from private.account_credentials(${literal(id)}::uuid)`);
  if (!row) return null;
  let credentials: Record<string, string> | null = null;
  try {
    credentials = row.credentials_encrypted ? await decryptCredentials(row.credentials_encrypted) : null;
  } catch {
    credentials = null; // sealed with another key: nothing to end
  }
  return { credentials, shared: row.shared, platform: row.platform, handle: row.handle };
}

/** Connecting failed: nothing of the add is kept. A failure here leaves the row waiting, unpublishable, for the user to remove. */
async function discardUnconnected(accountId: string) {
  await asWorker(db(), `select private.discard_unconnected_account(${literal(accountId)}::uuid)`).catch((error) =>
    console.error(`accounts: discarding unconnected account ${accountId} failed`, error),
  );
}

/** Attempts at storing credentials the platform handed out: a token given out once is worth a retry. */
const STORE_RETRY_MS = [0, 250, 1_000];

/**
 * Stores the sealed credentials and marks the account connected, retrying: the platform may have
 * handed its token out once. If every attempt fails, the row stays in needs_reconnect saying why
 * (not deleted: the handle now exists on the platform), and the caller gets a 503.
 */
async function storeConnection(
  accountId: string,
  credentials: Record<string, string>,
  what: string,
  opts: { reconnect?: boolean; identity?: string | null } = {},
): Promise<Row> {
  let lastError: unknown;
  for (const wait of STORE_RETRY_MS) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const sealed = await encryptCredentials(credentials);
      const [row] = await asWorker(
        db(),
        opts.identity
          ? `select ${COLUMNS} from private.connect_account(${literal(accountId)}::uuid, ${literal(sealed)}, ${literal(opts.identity)}::text)`
          : `select ${COLUMNS} from private.connect_account(${literal(accountId)}::uuid, ${literal(sealed)})`,
      );
      return row;
    } catch (error) {
      lastError = error;
      const code = (error as { code?: string }).code;
      // Removed while connecting: nothing is left to store into.
      if (code === "P0002") throw notFound("Account");
      // Another account of the workspace is this identity (the database's unique index): not stored.
      if (code === "23505") {
        throw new PacerError(409, "account_exists", `${what} is already in this workspace (as another account with the same identity).`, [
          { path: "handle", message: "This account is already connected." },
        ]);
      }
      // The account is pinned to another identity (a reconnect as someone else): not stored.
      if (code === "23514") throw new PacerError(409, "wrong_account", `${what} was connected as another account: sign in as that account to reconnect it.`);
    }
  }
  console.error(`accounts: storing the credentials of ${accountId} failed`, lastError);
  // A reconnect keeps the account as it was (its old credentials stay): the user can try again.
  if (opts.reconnect) throw new PacerError(503, "credentials_not_saved", `${what} was reconnected, but Pacer could not save its new credentials. Try reconnecting again.`);
  const reason = `${what} was connected, but Pacer could not save its credentials. Remove this account and add it again to reconnect it.`;
  await asWorker(db(), `select private.hold_unconnected_account(${literal(accountId)}::uuid, ${literal(reason)})`).catch(() => {});
  throw new PacerError(503, "credentials_not_saved", reason);
}

/** A nested schema's issues, with their paths under `prefix` as the caller sent them. */
function withPrefix(error: z.ZodError, prefix: string): z.ZodError {
  return new z.ZodError(error.issues.map((i) => ({ ...i, path: [prefix, ...i.path] })));
}

async function insertAccount(
  tx: Tx,
  a: { workspaceId: string; platform: string; handle: string; displayName: string },
) {
  try {
    return await tx.unsafe(
      `insert into public.social_accounts (workspace_id, platform, handle, display_name)
       values ($1, $2, $3, $4) returning ${COLUMNS}`,
      [a.workspaceId, a.platform, a.handle, a.displayName],
    );
  } catch (error) {
    if ((error as { code?: string }).code === "23505") {
      throw new PacerError(409, "account_exists", `@${a.handle} on ${a.platform} is already in this workspace.`, [
        { path: "handle", message: "This account is already connected." },
      ]);
    }
    return fromDatabaseError(error);
  }
}

export async function renameAccount(user: UserClaims, id: string, input: unknown): Promise<Account> {
  if (!accountId.safeParse(id).success) throw notFound("Account");
  const parsed = accountChanges.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The change");
  const { handle: newHandle, displayName: newName } = parsed.data;

  return asUser(user, async (tx) => {
    // A real platform's handle is the platform's, set when connected (the database refuses it too).
    const [current] = newHandle === undefined ? [] : await tx`select platform, handle from public.social_accounts where id = ${id}`;
    if (current && current.platform !== "sandbox" && current.handle !== newHandle) {
      throw new PacerError(400, "validation_failed", `The handle of a ${current.platform} account is the platform's and cannot be changed; change its displayName instead.`, [
        { path: "handle", message: "Only a sandbox account's handle can be changed." },
      ]);
    }
    let rows;
    try {
      rows = await tx.unsafe(
        `update public.social_accounts
            set handle = coalesce($2, handle), display_name = coalesce($3, display_name)
          where id = $1 returning ${COLUMNS}`,
        [id, newHandle ?? null, newName ?? null],
      );
    } catch (error) {
      if ((error as { code?: string }).code === "23505") {
        throw new PacerError(409, "account_exists", `@${newHandle} is already connected in this workspace.`, [
          { path: "handle", message: "Another account already has this handle." },
        ]);
      }
      return fromDatabaseError(error);
    }
    if (rows.length === 0) await explainNoRowChanged(tx, id, "change");
    return toAccount(rows[0]);
  });
}

/**
 * Removes (archives) one account: its waiting posts are cancelled, its posted items and history stay.
 * 404 when the user cannot see it or it was removed already, 403 below admin.
 */
export async function removeAccount(user: UserClaims, id: string): Promise<RemovalOutcome> {
  if (!accountId.safeParse(id).success) throw notFound("Account");
  const [outcome] = await removeAccounts(user, [id]);
  if (outcome.outcome === "forbidden") throw new PacerError(403, "forbidden", "Your role in this workspace does not allow you to remove accounts; admins and owners can.");
  if (outcome.outcome !== "removed") throw notFound("Account");
  return outcome;
}

/** RLS hides what a user may not touch: 404 if they cannot see the account, 403 if their role is too weak. */
async function explainNoRowChanged(tx: Tx, id: string, verb: string): Promise<never> {
  const [visible] = await tx`select handle, archived_at from public.social_accounts where id = ${id}`;
  if (!visible) throw notFound("Account");
  if (visible.archived_at) throw accountRemoved(visible.handle);
  throw new PacerError(403, "forbidden", `Your role in this workspace does not allow you to ${verb} accounts.`);
}

function accountRemoved(handle: string) {
  return new PacerError(409, "account_removed", `@${handle} was removed from this workspace; a removed account cannot be changed or reconnected. Add the handle again as a new account.`);
}

// --- Many accounts at once: removal (archive), pause, resume ---------------------------------------

export type RemovalResult = "removed" | "already_removed" | "forbidden" | "not_found";

export interface RemovalOutcome {
  accountId: string;
  handle: string | null;
  outcome: RemovalResult;
  /** Waiting posts cancelled ("account removed"). */
  cancelled: number;
  /** Posts mid-publish: they end cancelled unless the attempt in flight posted. */
  cancelRequested: number;
  /** Posted items of the account: they stay in the queue and the history. */
  posted: number;
}

/** What removing these accounts would do, for an honest confirmation (counted as the user: RLS). */
export async function removalPreview(user: UserClaims, input: unknown) {
  const parsed = removalPreviewInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The removal");
  return asUser(user, async (tx) => {
    const [r] = await tx`select * from public.account_removal_preview(${parsed.data.accountIds}::uuid[])`;
    return { accounts: r.accounts as number, waiting: r.waiting as number, inFlight: r.in_flight as number, posted: r.posted as number };
  });
}

/**
 * Removes (archives) accounts, set-based in the database (public.remove_accounts), with each
 * account's outcome; then ends the removed ones' platform sessions, best effort.
 */
export async function removeAccounts(user: UserClaims, ids: string[]): Promise<RemovalOutcome[]> {
  // Read before the credentials are dropped (nothing reaches the user): what ends each session on its platform.
  const sessions = new Map<string, Awaited<ReturnType<typeof sealedCredentials>>>();
  for (const id of ids.slice(0, SESSIONS_ENDED_INLINE)) sessions.set(id, await sealedCredentials(id).catch(() => null));
  const rows = await asUser(user, (tx) => tx`select * from public.remove_accounts(${ids}::uuid[])`.catch(fromDatabaseError));
  const outcomes = rows.map((r) => ({
    accountId: r.account_id as string,
    handle: r.handle as string | null,
    outcome: r.outcome as RemovalResult,
    cancelled: r.cancelled as number,
    cancelRequested: r.cancel_requested as number,
    posted: r.posted as number,
  }));
  // Disconnected: revoke the token or end the session, best effort (Pacer's copy is gone either way).
  for (const o of outcomes) {
    const old = sessions.get(o.accountId);
    if (o.outcome === "removed" && old?.credentials) {
      await endPlatformSession(old.platform, old.handle, old.credentials, { id: o.accountId, shared: old.shared }).catch(() => {});
    }
  }
  return outcomes;
}

/**
 * Sessions ended on the platform within the request. A bulk removal of hundreds would wait on as
 * many platform calls: past this many, the credentials are still dropped (Pacer can no longer post)
 * and the platform's session simply lapses.
 */
const SESSIONS_ENDED_INLINE = 50;

export interface BulkOutcome {
  accountId: string;
  outcome: string;
  state: Account["state"] | null;
  message: string | null;
}

/** Pauses accounts (editors and up), each with its outcome: paused, unchanged, removed, forbidden, not_found. */
export function pauseAccounts(user: UserClaims, ids: string[]): Promise<BulkOutcome[]> {
  return asUser(user, async (tx) => {
    const rows = await tx`select * from public.pause_accounts(${ids}::uuid[])`.catch(fromDatabaseError);
    return rows.map((r) => ({ accountId: r.account_id, outcome: r.outcome, state: r.state, message: null }));
  });
}

/**
 * Resumes accounts (editors and up), each checked on its own: resumed, still_paused (the plan does not
 * cover it), unchanged, account_removed, needs_reconnect, plan_limit, forbidden, not_found.
 */
export function resumeAccounts(user: UserClaims, ids: string[]): Promise<BulkOutcome[]> {
  return asUser(user, async (tx) => {
    const rows = await tx`select * from public.resume_accounts(${ids}::uuid[])`.catch(fromDatabaseError);
    return rows.map((r) => ({ accountId: r.account_id, outcome: r.outcome, state: r.state, message: r.message }));
  });
}

/** One bulk action over many accounts: the outcomes, and a count per outcome for the reply's summary. */
export async function bulkAccountAction(user: UserClaims, input: unknown) {
  const parsed = bulkAccountsInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The bulk action");
  const { action, accountIds } = parsed.data;
  const results =
    action === "remove"
      ? (await removeAccounts(user, accountIds)).map((o) => ({ accountId: o.accountId, outcome: o.outcome, state: null, message: null, cancelled: o.cancelled, posted: o.posted }))
      : action === "pause"
        ? await pauseAccounts(user, accountIds)
        : await resumeAccounts(user, accountIds);
  const summary: Record<string, number> = {};
  for (const r of results) summary[r.outcome] = (summary[r.outcome] ?? 0) + 1;
  return { action, results, summary };
}
