// The chaos test's world: its size and engine settings, the faults the sandbox injects (each at a
// known share of publish requests), and the users, workspaces, limits, accounts and posts it queues.
import postgres from "postgres";
import { randomUUID } from "node:crypto";
import type { Faults } from "../../local/sandbox/index.ts";
import type { SandboxNetwork } from "../../local/sandbox/network.ts";
import { makeWorkspace } from "./database.ts";
import { seededRandom } from "../../local/sandbox/network.ts";
import { sandboxAccounts } from "../support/sandbox.ts";
import { connectFakeAccount, connectorOf, type ChaosConnector, type FakeAccountMade, type Fakes } from "./platforms.ts";

export type Sql = postgres.Sql;

/** Sizes and engine settings; PACER_CHAOS_POSTS / PACER_CHAOS_ACCOUNTS scale the run up. */
export function chaosConfig(env: Record<string, string | undefined> = process.env) {
  const posts = Number(env.PACER_CHAOS_POSTS ?? 1000);
  const accounts = Number(env.PACER_CHAOS_ACCOUNTS ?? 50);
  return {
    posts,
    accounts,
    workers: 3,
    /** Engine settings handed to every worker process. */
    engine: {
      concurrency: 32,
      batchSize: 16,
      leaseSeconds: 4,
      // As in the issue's run: short, so a loaded machine sends requests that land after it.
      callTimeoutMs: 1500,
      retryBaseMs: 100,
      retryMax: 6,
      /** Lookups the platform could not answer (a loaded machine times some out) are asked again soon. */
      verifyRetryMs: [300, 600, 1200, 2400, 4800, 9600],
    },
    /**
     * The sandbox platform's verification timings in the run's database (public.platforms): seconds,
     * not the 30 s defaults, so late writes test the rule within the run. The margin covers a late
     * commit and what an overloaded machine adds (measured here: a request stored 1.2 s after its
     * client gave up, with 2 cores shared by other test runs; a 300 ms margin then re-sent it).
     */
    verify: { marginMs: 2500, confirmMs: 1500 },
    /** commit_late stores a post this long after reading it: 0.8 s past the client's timeout, inside the margin. */
    lateCommitMs: 2300,
    /** The Edge Function is called this often (runs overlap, as pg_net's do), each run for this long. */
    edge: { everyMs: 1500, budgetMs: 2000 },
    /**
     * Owners of each workspace pressing "process now" in the web app (in turn, when more than one), each
     * as often as the API allows. One: more mostly meet 409 (a run already holds the workspace) and load
     * the machine with `next dev`'s per-request work.
     */
    processNow: { pressersPerWorkspace: 1 },
    /** Accounts whose sandbox honours the Idempotency-Key Pacer sends; the others show any re-send as a duplicate. */
    honoursIdempotencyKey: (index: number) => index % 5 === 2,
    /** The sandbox's delay before answering every request, and how long a hung response hangs. */
    latency: { ms: 30, jitterMs: 25 },
    hangMs: 2000,
    /** Each fault's share of the publish requests that reach the fault checks. */
    faultShare: 0.08,
    /** Share of posts that name a destination (only those can be refused by one). */
    withDestination: 0.75,
    /** Every tenth account is never reconnected once it parks: its remaining items must stay parked. */
    abandoned: (index: number) => index % 10 === 9,
    /** How long the operator waits before reconnecting or reviewing a parked account. */
    resumeAfterMs: [500, 1500] as const,
    /** Share of items the operator cancels while the run is under way. */
    cancelShare: 0.02,
    /** A worker is SIGKILLed every this many ms (one at random) and started again at once. */
    killEveryMs: [1000, 3000] as const,
    /** Postgres restarts once, when this share of the items has settled. */
    restartAtSettled: 0.4,
    restartDownMs: 1000,
    /** Give up (and fail) after this long. */
    timeoutMs: Number(env.PACER_CHAOS_TIMEOUT_MS ?? Math.max(240_000, posts * 120)),
    seed: Number(env.PACER_CHAOS_SEED ?? 20261124),
  };
}
export type ChaosConfig = ReturnType<typeof chaosConfig>;

/** The faults a publish request meets, in the order the sandbox rolls them (local/sandbox/routes.ts). */
export const FAULT_KINDS = [
  "token_expired",
  "restricted",
  "destination_rejected",
  "duplicate_content",
  "error_before_commit",
  "reset_before_commit",
  "commit_late",
  "error_after_commit",
  "reset_after_commit",
  "hang_after_commit",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Each roll only happens when the earlier ones did not fire, so a fault's own probability is its
 * target share divided by the share of requests that still reach it. Every probability is made
 * distinct, so a fired roll can be told apart by its probability alone.
 */
export function faultProbabilities(share: number, withDestination: number): Record<FaultKind, number> {
  let reachWith = 1; // a request for a post with a destination, still unrefused
  let reachWithout = 1;
  const used = new Set<number>();
  const p = {} as Record<FaultKind, number>;
  for (const kind of FAULT_KINDS) {
    const reach = kind === "destination_rejected" ? withDestination * reachWith : withDestination * reachWith + (1 - withDestination) * reachWithout;
    let q = Math.ceil((share / reach) * 1e4) / 1e4;
    while (used.has(q)) q += 1e-6;
    used.add(q);
    p[kind] = q;
    reachWith *= 1 - q;
    if (kind !== "destination_rejected") reachWithout *= 1 - q;
  }
  return p;
}

export function sandboxFaults(config: ChaosConfig): Faults {
  const p = faultProbabilities(config.faultShare, config.withDestination);
  return {
    latency: config.latency,
    token_expired: p.token_expired,
    restricted: p.restricted,
    destination_rejected: p.destination_rejected,
    duplicate_content: p.duplicate_content,
    error_before_commit: p.error_before_commit,
    reset_before_commit: p.reset_before_commit,
    commit_late: { p: p.commit_late, ms: config.lateCommitMs },
    error_after_commit: p.error_after_commit,
    reset_after_commit: p.reset_after_commit,
    hang_after_commit: { p: p.hang_after_commit, ms: config.hangMs },
  };
}

/** Counts every fault the sandbox fires, and the publish requests that reached the fault checks. */
export function countFaults(network: SandboxNetwork, config: ChaosConfig) {
  const p = faultProbabilities(config.faultShare, config.withDestination);
  const kindOf = new Map<number, FaultKind>(FAULT_KINDS.map((k) => [p[k], k]));
  const fired = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const counts = { requests: 0, fired };
  const roll = network.roll.bind(network);
  network.roll = (q: number | undefined) => {
    const kind = q === undefined ? undefined : kindOf.get(q);
    if (kind === "token_expired") counts.requests++; // the first check every publish request meets
    const hit = roll(q);
    if (hit && kind) fired[kind]++;
    return hit;
  };
  return counts;
}

/**
 * Three workspaces, so each kind of limit binds somewhere:
 * - steady: a minimum gap between an account's posts, the hourly cap far away;
 * - window: an hourly cap whose window is full when the run starts (an earlier hour's posts in the
 *   ledger, as a restart would find them) and opens one slot at a time as those age out;
 * - capped: an hourly cap lower than each account's posts, so every account hits it in the run and
 *   its remaining items wait for the next hour.
 */
export interface LimitGroup {
  name: "steady" | "window" | "capped";
  workspaceId: string;
  /** The workspace's owner, who cancels posts through the same function the API calls. */
  ownerId: string;
  perHour: number;
  minGapMs: number;
}

export interface ChaosAccount {
  id: string;
  handle: string;
  index: number;
  /** Who publishes for it: the sandbox, or a connector against its local fake. */
  connector: ChaosConnector;
  /** Pacer's platform for it (Upload-Post accounts: the social platform). */
  platform: string;
  /** A fake account's own name on its fake, to read the fake's record. */
  record?: FakeAccountMade["record"];
  group: LimitGroup;
  abandoned: boolean;
  /** Ledger rows written before the run (the window group's earlier hour). */
  earlier: Date[];
}

export interface World {
  groups: LimitGroup[];
  accounts: ChaosAccount[];
  accountById: Map<string, ChaosAccount>;
  workspaceIds: string[];
  items: number;
}

// The window group's earlier hour ages out across this stretch of the run (from when the world is built):
// it starts once the workers are up, one slot at a time, each slot more than the minimum gap apart.
const WINDOW_OPENS_MS = [6000, 26000] as const;

/**
 * `sandboxUrl`: where the sandbox accounts are created, each with its token sealed (PACER_CREDENTIALS_KEY)
 * as Pacer stores it; `fakes`: where the others are (connectorOf), connected through their connectors
 * with `engineEnv` (the engine's own configuration).
 */
export async function buildWorld(sql: Sql, config: ChaosConfig, random: () => number, sandboxUrl: string, fakes: Fakes, engineEnv: Record<string, string>): Promise<World> {
  const capped = Math.max(2, Math.round(config.accounts * 0.15));
  const windowed = Math.max(2, Math.round(config.accounts * 0.15));
  const perAccount = Math.ceil(config.posts / config.accounts);
  const groups: LimitGroup[] = [];
  const kinds = Array.from({ length: config.accounts }, (_, index) => connectorOf(index));
  // Each group's keys: one Upload-Post API key per workspace, as the connect flow keeps it.
  const uploadPostKeys = new Map<string, string>();
  const platformOf: string[] = [];
  const made = new Map<number, FakeAccountMade>();
  for (let index = 0; index < config.accounts; index++) {
    const kind = kinds[index];
    if (kind === "sandbox") continue;
    const groupName = index < capped ? "capped" : index < capped + windowed ? "window" : "steady";
    const apiKey = () => uploadPostKeys.get(groupName) ?? uploadPostKeys.set(groupName, fakes.uploadPost.state.createKey().apiKey).get(groupName)!;
    made.set(index, await connectFakeAccount(fakes, kind, index, engineEnv, apiKey));
  }
  for (let index = 0; index < config.accounts; index++) platformOf[index] = made.get(index)?.platform ?? "sandbox";
  const platforms = [...new Set(platformOf)];
  // The run's database offers every platform it publishes to; verification on the run's short clock
  // (the rule must hold at these settings, not only at the 30 s defaults).
  await sql`update public.platforms set enabled = true, verify_margin_ms = ${config.verify.marginMs}, verify_confirm_ms = ${config.verify.confirmMs}
            where id = any(${platforms})`;
  // The platforms' own policies out of the way (the sandbox's are generous already), so the
  // workspaces' limits below, the same on every platform, are what binds: this run measures the engine.
  await sql`update public.rate_limit_policies set per_hour = 3600, per_day = 50000, min_gap_ms = 0
            where platform = any(${platforms}) and action = 'post'`;
  for (const [name, perHour, minGapMs] of [
    ["steady", 3600, 300],
    // Far more than an account's claims once the earlier hour has aged out, so only that binds.
    ["window", Math.max(80, perAccount * 5), 100],
    // Lower than any account's share of the posts, so each one reaches it.
    ["capped", Math.max(2, Math.floor(perAccount / 2)), 100],
  ] as const) {
    const { workspaceId, ownerId } = await makeWorkspace(sql, `chaos-${name}`); // on Ultra, so 200 accounts fit
    // The same limits on every platform, so each kind binds on the fakes' accounts too.
    await sql`insert into public.workspace_rate_limits (workspace_id, platform, action, per_hour, min_gap_ms)
              select ${workspaceId}, p, 'post', ${perHour}, ${minGapMs} from unnest(${platforms}::text[]) p`;
    groups.push({ name, workspaceId, ownerId, perHour, minGapMs });
  }

  const accounts: ChaosAccount[] = [];
  const now = Date.now();
  const onSandbox = kinds.flatMap((k, index) => (k === "sandbox" ? [index] : []));
  const sandboxMade = await sandboxAccounts(sandboxUrl, onSandbox.map((index) => `chaos_${index}`));
  onSandbox.forEach((index, k) => made.set(index, { platform: "sandbox", handle: sandboxMade[k].handle, sealed: sandboxMade[k].sealed, record: { username: "" } }));
  for (let index = 0; index < config.accounts; index++) {
    const group = index < capped ? groups[2] : index < capped + windowed ? groups[1] : groups[0];
    const { handle, sealed, platform, record } = made.get(index)!;
    const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
                          values (${group.workspaceId}, ${platform}, ${handle}, ${`Chaos ${index}`}, ${sealed}) returning id`;
    const connector = kinds[index];
    accounts.push({ id: a.id, handle, index, connector, platform, record: connector === "sandbox" ? undefined : record, group, abandoned: config.abandoned(index), earlier: [] });
  }

  // One post per queue item, spread evenly over the accounts; most due now, some a little later.
  const rows = Array.from({ length: config.posts }, (_, i) => {
    const account = accounts[i % accounts.length];
    const offsetMs = random() < 0.2 ? random() * 8000 : -random() * 5000;
    const withDestination = random() < config.withDestination;
    const onSandbox = account.connector === "sandbox";
    return {
      workspace_id: account.group.workspaceId,
      account_id: account.id,
      // No "@" on the real platforms, where it would be a mention; no destination where they have none.
      text: `chaos post ${i} for ${onSandbox ? "@" : ""}${account.handle} (${randomUUID().slice(0, 8)})`,
      destination: withDestination && onSandbox ? `c/channel-${i % 7}` : null,
      // An eighth of the posts to Mastodon and Bluesky are threads of three (by index, so the seeded choices stay as they were).
      thread: !onSandbox && account.connector !== "upload-post" && i % 8 === 1 ? [`part 2 of chaos post ${i}`, `part 3 of chaos post ${i}`] : [],
      // The window group's posts are urgent, so they are claimed as soon as a slot opens, however busy the queue.
      priority: account.group.name === "window" ? 10 : 1 + Math.floor(random() * 10),
      at: new Date(now + offsetMs).toISOString(),
    };
  });
  await sql`
    with input as (
      select * from jsonb_to_recordset(${sql.json(rows)}) as x(workspace_id uuid, account_id uuid, text text,
        destination text, thread text[], priority smallint, at timestamptz)
    ),
    made as (
      insert into public.posts (id, workspace_id, text, destination, thread)
      select gen_random_uuid(), workspace_id, text, destination, thread from input
      returning id, workspace_id, text
    )
    insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at)
    select i.workspace_id, m.id, i.account_id, i.priority, i.at, i.at
    from input i join made m on m.text = i.text`;

  // Last, so the window opens as the run starts: the window group's earlier hour, full to its cap.
  const opensFrom = Date.now();
  const [from, to] = WINDOW_OPENS_MS;
  for (const account of accounts.filter((a) => a.group.name === "window")) {
    const { perHour } = account.group;
    account.earlier = Array.from({ length: perHour }, (_, k) => new Date(opensFrom - 3_600_000 + from + ((to - from) * k) / perHour));
  }
  const earlier = accounts.flatMap((a) => a.earlier.map((at) => ({ account_id: a.id, at: at.toISOString() })));
  await sql`insert into private.rate_limit_ledger (account_id, action, at)
            select account_id, 'post', at from jsonb_to_recordset(${sql.json(earlier)}) as x(account_id uuid, at timestamptz)`;

  return {
    groups,
    accounts,
    accountById: new Map(accounts.map((a) => [a.id, a])),
    workspaceIds: groups.map((g) => g.workspaceId),
    items: config.posts,
  };
}

/** The sandbox's seeded generator, so the scene's own choices (priorities, kills, cancels) replay from the seed. */
export const seeded = seededRandom;

export const between = (random: () => number, [lo, hi]: readonly [number, number]) => lo + random() * (hi - lo);
