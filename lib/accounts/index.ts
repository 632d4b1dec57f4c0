// Social accounts of a workspace: list, add (capped by the plan, in the database), rename, remove.
import { z } from "zod";
import { asUser, type Row, type Tx, type UserClaims } from "@/lib/db";
import { PacerError, fromDatabaseError, notFound, validationFailed } from "@/lib/api/errors";
import { resolveWorkspaceId } from "@/lib/workspaces";
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
  credentials: z.record(z.string(), z.string()).optional(),
  workspaceId: z.uuid("workspaceId must be a workspace id (a UUID).").optional(),
});

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
  const { platform, credentials, workspaceId: requested } = parsed.data;
  const sealed = credentials ? await encryptCredentials(credentials) : null;

  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requested);
    const [p] = await tx`select name, enabled from public.platforms where id = ${platform}`;
    if (!p) {
      throw new PacerError(400, "validation_failed", `There is no platform called "${platform}".`, [
        { path: "platform", message: `Unknown platform "${platform}".` },
      ]);
    }
    if (!p.enabled) {
      throw new PacerError(400, "platform_unavailable", `Connecting ${p.name} accounts is not available yet.`, [
        { path: "platform", message: `${p.name} cannot be connected yet; use sandbox.` },
      ]);
    }
    const rows = await insertAccount(tx, {
      workspaceId,
      platform,
      handle: parsed.data.handle,
      displayName: parsed.data.displayName ?? parsed.data.handle,
      sealed,
    });
    return toAccount(rows[0]);
  });
}

async function insertAccount(
  tx: Tx,
  a: { workspaceId: string; platform: string; handle: string; displayName: string; sealed: string | null },
) {
  try {
    return await tx.unsafe(
      `insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
       values ($1, $2, $3, $4, $5) returning ${COLUMNS}`,
      [a.workspaceId, a.platform, a.handle, a.displayName, a.sealed],
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
