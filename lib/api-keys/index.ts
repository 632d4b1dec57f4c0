// Per-workspace API keys: made (shown once), listed and revoked by signed-in people; used by programs
// as `Authorization: Bearer pk_…`. A key acts as the person who made it, narrowed to the key's
// workspace and scopes; the database holds those rules (migration 20261204000500), this file asks it.
import { asUser, asWorker, db, literal, type ApiKeyClaim, type Row, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed } from "@/lib/api/errors";
import type { ApiBucket } from "@/lib/api/limits";
import { resolveWorkspaceId } from "@/lib/workspaces";
import { createApiKeyInput, listApiKeysQuery, type ApiKey, type ApiKeyScope } from "./input";
import { generateApiKey, hashApiKey, isWellFormedApiKey } from "./secret";
import { z } from "zod";

export { isApiKeyToken } from "./secret";

/**
 * The scope a key needs for a route of each rate-limit bucket; null: people only. Billing changes
 * money and who pays, so no program may start it; a new bucket must say what keys may do with it.
 */
export const KEY_SCOPE_OF_BUCKET: Record<ApiBucket, ApiKeyScope | null> = {
  read: "read",
  write: "write",
  bulk: "write",
  process: "process",
  billing: null,
};

/** The role a key's maker must hold for each scope (private.api_scope_role says the same). */
export const SCOPE_ROLE: Record<ApiKeyScope, ApiKeyClaim["role"]> = { read: "viewer", write: "editor", process: "editor" };
const RANK: Record<ApiKeyClaim["role"], number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

const invalidKey = () =>
  new PacerError(401, "invalid_api_key", "This API key is not valid: check that it was copied whole (pk_ and 43 characters), or make a new one on the API keys page.");

const REFUSED: Record<string, () => PacerError> = {
  revoked: () => new PacerError(401, "api_key_revoked", "This API key was revoked. Make a new one on the API keys page."),
  expired: () => new PacerError(401, "api_key_expired", "This API key has expired. Make a new one on the API keys page."),
  maker_left: () =>
    new PacerError(401, "api_key_maker_left", "The person who made this API key is no longer a member of its workspace, so the key no longer works. A member can make a new one."),
  no_api_access: () =>
    new PacerError(403, "plan_feature_unavailable", "The workspace's plan does not include API access, so its keys do not work. Upgrade in Billing."),
};

/**
 * The claims an API key acts with: its maker's id, and the key (id, workspace, scopes, the maker's
 * role). A key that is unknown, revoked, expired, of a maker who left, or of a plan without
 * api_access is refused with a PacerError saying which.
 */
export async function authenticateApiKey(token: string): Promise<UserClaims> {
  if (!isWellFormedApiKey(token)) throw invalidKey();
  const hex = hashApiKey(token).toString("hex");
  const [row] = await asWorker(
    db(),
    `select key_id, workspace_id, user_id, scopes, role::text as role, refused
     from private.authenticate_api_key(decode(${literal(hex)}, 'hex'))`,
  );
  if (!row) throw invalidKey();
  if (row.refused) throw (REFUSED[row.refused] ?? invalidKey)();
  return {
    sub: row.user_id,
    role: "authenticated",
    aud: "authenticated",
    api_key: { id: row.key_id, workspace_id: row.workspace_id, scopes: row.scopes, role: row.role },
  };
}

/**
 * A key request's claims for a route of `bucket`, with the scope it uses: 403 for a people-only route,
 * a scope the key lacks, or a maker whose role no longer allows the scope.
 */
export function authorizeApiKey(user: UserClaims, bucket: ApiBucket, peopleOnly: boolean): UserClaims {
  const key = user.api_key!;
  const scope = peopleOnly ? null : KEY_SCOPE_OF_BUCKET[bucket];
  if (!scope) {
    throw new PacerError(
      403,
      "session_required",
      "API keys cannot use this route: it is for signed-in people (billing, API keys, team membership, webhook endpoints, the audit log, the Upload-Post key, operators' views). Sign in to the app, or send a session's access token.",
    );
  }
  if (!key.scopes.includes(scope)) {
    throw new PacerError(
      403,
      "insufficient_scope",
      `This API key does not have the ${scope} scope this route needs (it has: ${key.scopes.join(", ")}). Make a key with ${scope} on the API keys page.`,
    );
  }
  if (RANK[key.role] < RANK[SCOPE_ROLE[scope]]) {
    throw new PacerError(
      403,
      "api_key_role",
      `This API key acts as the person who made it, who is now a ${key.role} in the workspace; the ${scope} scope needs ${SCOPE_ROLE[scope]} or above.`,
    );
  }
  return { ...user, api_key: { ...key, scope } };
}

// ------------------------------------------------------------------------------------------------
// Managing keys (people only: the database refuses a key request, and so do the routes).
// ------------------------------------------------------------------------------------------------

/** Database refusals of the key functions: their own messages, as 403/404/409/400. */
function fromKeyError(error: unknown): never {
  const e = error as { code?: string; message?: string; detail?: string; hint?: string };
  const message = [e?.message, e?.hint].filter(Boolean).join(" ");
  if (e?.code === "42501") throw new PacerError(403, "forbidden", message);
  if (e?.code === "P0002") throw new PacerError(404, "not_found", message);
  if (e?.code === "22023") throw new PacerError(400, "validation_failed", message);
  if (e?.code === "P0001" && e.detail?.startsWith("{")) {
    const { code } = JSON.parse(e.detail) as { code: string };
    throw new PacerError(code === "plan_feature_unavailable" ? 403 : 409, code, message);
  }
  throw error;
}

const KEY_COLUMNS = `k.id, k.workspace_id, k.name, k.prefix, k.scopes, k.created_by, k.created_at, k.expires_at,
  k.last_used_at, k.revoked_at, k.created_by = (select auth.uid()) as created_by_you`;

const iso = (d: Date | null) => d?.toISOString() ?? null;

function toApiKey(r: Row): ApiKey {
  const expired = r.expires_at !== null && r.expires_at.getTime() <= Date.now();
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    createdBy: r.created_by,
    createdByYou: r.created_by_you,
    createdAt: r.created_at.toISOString(),
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
    status: r.revoked_at ? "revoked" : expired ? "expired" : "active",
  };
}

function parse<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, what);
  return parsed.data;
}

/** The workspace's keys, newest first (revoked ones too, so people see what stopped working). */
export function listApiKeys(user: UserClaims, query: unknown) {
  const { workspaceId } = parse(listApiKeysQuery, query, "The query");
  return asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, workspaceId);
    const rows = await tx.unsafe(`select ${KEY_COLUMNS} from public.api_keys k where k.workspace_id = $1 order by k.created_at desc, k.id`, [ws]);
    return { workspaceId: ws, keys: rows.map(toApiKey) };
  });
}

/** Make a key; the reply carries its secret, the only time anyone sees it. */
export async function createApiKey(user: UserClaims, input: unknown) {
  const body = parse(createApiKeyInput, input, "The API key");
  const { secret, prefix, hash } = generateApiKey();
  const key = await asUser(user, async (tx) => {
    const ws = await resolveWorkspaceId(tx, body.workspaceId);
    const [made] = await tx`
      select private.create_api_key(${ws}, ${body.name}, ${body.scopes}, ${body.expiresAt ?? null}, ${prefix}, ${hash}) as id`;
    const [row] = await tx.unsafe(`select ${KEY_COLUMNS} from public.api_keys k where k.id = $1`, [made.id]);
    return toApiKey(row);
  }).catch(fromKeyError);
  return { key, secret };
}

/** Revoke a key (its maker, or an admin or owner); it stops working at once. */
export async function revokeApiKey(user: UserClaims, id: string) {
  if (!z.uuid().safeParse(id).success) throw new PacerError(404, "not_found", "No such API key in your workspaces.");
  return asUser(user, async (tx) => {
    await tx`select private.revoke_api_key(${id})`;
    const [row] = await tx.unsafe(`select ${KEY_COLUMNS} from public.api_keys k where k.id = $1`, [id]);
    return { key: toApiKey(row) };
  }).catch(fromKeyError);
}
