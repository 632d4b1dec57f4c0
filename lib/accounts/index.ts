// Social accounts of a workspace: list, add (capped by the plan, in the database, and connected on
// the platform as its owner would, with no transaction open across the platform's answer), rename, remove.
import { z } from "zod";
import { asUser, asWorker, db, literal, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { connectorFor, platformEnabled } from "@/lib/connectors/registry";
import { encryptCredentials } from "./credentials";

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
  createdAt: string;
  updatedAt: string;
}

// The columns an API caller may see: never credentials_encrypted.
const COLUMNS = `id, workspace_id, platform, handle, display_name, state, cooldown_until, requires_review,
                 last_error, health_score, created_at, updated_at`;

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
};

/** How long connecting may keep the add waiting on the platform. */
const CONNECT_TIMEOUT_MS = 10_000;

export const accountChanges = z
  .object({ handle: handle.optional(), displayName: displayName.optional() })
  .strict()
  .refine((c) => c.handle !== undefined || c.displayName !== undefined, "Send a new handle or displayName.");

const accountId = z.uuid();

export function listAccounts(user: UserClaims, requestedWorkspaceId?: string | null) {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const rows = await tx.unsafe(
      `select ${COLUMNS} from public.social_accounts where workspace_id = $1 order by created_at, id`,
      [workspaceId],
    );
    return { workspaceId, accounts: rows.map(toAccount) };
  });
}

export async function addAccount(user: UserClaims, input: unknown): Promise<Account> {
  const parsed = newAccountInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The account");
  const { platform, handle: accountHandle, workspaceId: requested } = parsed.data;
  const shape = CREDENTIALS[platform];
  const supplied = shape?.safeParse(parsed.data.credentials ?? {});
  if (supplied && !supplied.success) throw validationFailed(withPrefix(supplied.error, "credentials"), "The account");

  // (a) The row, as the user (RLS, the plan's limit, a duplicate are all refused before the platform
  // hands out a token), committed waiting in needs_reconnect: it cannot publish before (c).
  const pending = await asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requested);
    const [p] = await tx`select name, enabled from public.platforms where id = ${platform}`;
    if (!p) {
      throw new PacerError(400, "validation_failed", `There is no platform called "${platform}".`, [
        { path: "platform", message: `Unknown platform "${platform}".` },
      ]);
    }
    // Offered by this installation: PACER_CONNECTORS decides (platforms.enabled only says Pacer has a connector).
    if (!p.enabled || !platformEnabled(platform, process.env) || !supplied) {
      throw new PacerError(400, "platform_unavailable", `Connecting ${p.name} accounts is not available yet.`, [
        { path: "platform", message: `${p.name} cannot be connected yet; use sandbox.` },
      ]);
    }
    const [row] = await insertAccount(tx, {
      workspaceId,
      platform,
      handle: accountHandle,
      displayName: parsed.data.displayName ?? accountHandle,
    });
    // The server's role for this one call: a user's role cannot set an account's state.
    await tx`select set_config('role', 'pacer_worker', true)`;
    await tx`select private.hold_unconnected_account(${row.id}, ${`Connecting @${accountHandle} on ${p.name}…`})`;
    return { id: row.id as string, platformName: p.name as string, credentials: supplied.data };
  });

  // (b) The platform, outside any transaction: no connection is held while it answers.
  let connection;
  try {
    connection = await connectorFor(platform, process.env).connect(
      { handle: accountHandle, credentials: pending.credentials },
      { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) },
    );
  } catch (error) {
    await discardUnconnected(pending.id);
    throw error;
  }
  if (connection.kind !== "connected") {
    await discardUnconnected(pending.id);
    if (connection.kind === "unavailable") throw new PacerError(502, "platform_unreachable", connection.message);
    throw new PacerError(connection.code === "handle_taken" ? 409 : 400, connection.code, connection.message, [
      { path: connection.field, message: connection.message },
    ]);
  }

  // (c) The credentials and the connected state, in one statement.
  return toAccount(await storeConnection(pending.id, connection.credentials, `@${accountHandle} on ${pending.platformName}`));
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
async function storeConnection(accountId: string, credentials: Record<string, string>, what: string): Promise<Row> {
  let lastError: unknown;
  for (const wait of STORE_RETRY_MS) {
    if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const sealed = await encryptCredentials(credentials);
      const [row] = await asWorker(
        db(),
        `select ${COLUMNS} from private.connect_account(${literal(accountId)}::uuid, ${literal(sealed)})`,
      );
      return row;
    } catch (error) {
      lastError = error;
      // Removed while connecting: nothing is left to store into.
      if ((error as { code?: string }).code === "P0002") throw notFound("Account");
    }
  }
  console.error(`accounts: storing the credentials of ${accountId} failed`, lastError);
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

export async function removeAccount(user: UserClaims, id: string): Promise<void> {
  if (!accountId.safeParse(id).success) throw notFound("Account");
  await asUser(user, async (tx) => {
    const rows = await tx`delete from public.social_accounts where id = ${id} returning id`;
    if (rows.length === 0) await explainNoRowChanged(tx, id, "remove");
  });
}

/** RLS hides what a user may not touch: 404 if they cannot see the account, 403 if their role is too weak. */
async function explainNoRowChanged(tx: Tx, id: string, verb: string): Promise<never> {
  const [visible] = await tx`select 1 from public.social_accounts where id = ${id}`;
  if (!visible) throw notFound("Account");
  throw new PacerError(403, "forbidden", `Your role in this workspace does not allow you to ${verb} accounts.`);
}
