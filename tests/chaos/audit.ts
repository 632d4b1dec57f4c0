// What the chaos test checks once the queue has settled: the sandbox's own record against Pacer's,
// item by item, account by account. Each check returns the offenders it found, described in words,
// so a failure names the item, the account and what went wrong.
import type { Sandbox, SandboxPost } from "../../local/sandbox/index.ts";
import type { Operator, ParkWindow } from "./operator.ts";
import { auditFakes, FAKE_CONNECTORS, type Fakes } from "./platforms.ts";
import { FAULT_KINDS, type ChaosAccount, type ChaosConfig, type FaultKind, type Sql, type World } from "./scene.ts";

const HOUR = 3_600_000;
/** A claim starts (its ledger time) a little before it reads the account's state: allow that much. */
const CLAIM_SLACK_MS = 500;

export interface Item {
  id: number;
  accountId: string;
  status: string;
  attempts: number;
  verifyAttempts: number;
  key: string;
  /** The post's text: the real platforms keep no key on a post (Mastodon) or another one, so their records are matched by it. */
  text: string;
  /** The post's further parts (a thread), each a reply to the one before on the platform. */
  thread: string[];
  externalId: string | null;
  errorClass: string | null;
  /** Its owner cancelled it while it was being sent: whatever is live stays, nothing more of it is sent. */
  cancelRequested: boolean;
  parkedForever: boolean;
  waitsLong: boolean;
}

export interface AuditInput {
  sql: Sql;
  world: World;
  config: ChaosConfig;
  sandbox: Sandbox;
  operator: Operator;
  faults: { requests: number; fired: Record<FaultKind, number> };
  fakes: Fakes;
}

export async function loadItems(sql: Sql, world: World): Promise<Item[]> {
  const rows = await sql`
    select q.id, q.account_id, q.status, q.attempts, q.verify_attempts, q.idempotency_key, q.external_id, q.error_class, q.cancel_requested, p.text, p.thread,
           q.run_at = 'infinity' as parked_forever, q.run_at > now() + interval '30 minutes' as waits_long
    from public.queue_items q join public.posts p on p.id = q.post_id
    where q.workspace_id = any(${world.workspaceIds}) order by q.id`;
  return rows.map((r) => ({
    id: Number(r.id),
    accountId: r.account_id,
    status: r.status,
    attempts: r.attempts,
    verifyAttempts: r.verify_attempts,
    key: r.idempotency_key,
    text: r.text,
    thread: r.thread ?? [],
    externalId: r.external_id,
    errorClass: r.error_class,
    cancelRequested: r.cancel_requested,
    parkedForever: r.parked_forever,
    waitsLong: r.waits_long,
  }));
}

export async function audit(input: AuditInput) {
  const { sql, world, config, sandbox, operator } = input;
  const items = await loadItems(sql, world);
  const network = sandbox.network;
  const postsOf = (a: ChaosAccount): SandboxPost[] => network.accounts.get(a.handle)?.posts ?? [];
  const ledger = await loadLedger(sql, world);
  const states = new Map<string, string>(
    (await sql`select id, state from public.social_accounts where workspace_id = any(${world.workspaceIds})`).map((r) => [r.id, r.state]),
  );

  // 1. Exactly once, from the sandbox's side: a posted item is there once, under its external id; nothing else is there at all.
  const exactlyOnce: string[] = network.stats().duplicateClientRefs.map((d) => `client_ref ${d.client_ref} was stored ${d.count} times`);
  for (const item of items) {
    const account = world.accountById.get(item.accountId)!;
    if (account.connector !== "sandbox") continue; // the fakes' own records are audited below
    const found = network.postsByClientRef(item.key);
    if (item.status === "posted") {
      if (found.length !== 1) exactlyOnce.push(`item ${item.id} is posted but the sandbox holds ${found.length} posts with its key`);
      else if (found[0].id !== item.externalId || found[0].handle !== account.handle) {
        exactlyOnce.push(`item ${item.id} records external id ${item.externalId} on @${account.handle}; the sandbox has ${found[0].id} on @${found[0].handle}`);
      }
    } else if (found.length !== 0) {
      exactlyOnce.push(`item ${item.id} is ${item.status} but the sandbox published it ${found.length} time(s)`);
    }
  }

  // 2. Reconciliation: every post the sandbox accepted for these accounts belongs to an item Pacer marks posted.
  const byKey = new Map(items.map((i) => [i.key, i]));
  const reconciliation: string[] = [];
  for (const account of world.accounts) {
    for (const post of postsOf(account)) {
      const item = post.client_ref ? byKey.get(post.client_ref) : undefined;
      if (!item) reconciliation.push(`sandbox post ${post.id} on @${account.handle} has no queue item (client_ref ${post.client_ref})`);
      else if (item.status !== "posted") reconciliation.push(`sandbox post ${post.id} belongs to item ${item.id}, which Pacer marks ${item.status}`);
    }
  }

  // 3. Nothing stuck: each item is terminal, or parked for a reason the scene gave it.
  const settled: string[] = [];
  const explained: Record<string, number> = {};
  const note = (why: string) => (explained[why] = (explained[why] ?? 0) + 1);
  for (const item of items) {
    const account = world.accountById.get(item.accountId)!;
    const state = states.get(item.accountId)!;
    const waiting = item.status === "pending" || item.status === "rate_limited";
    if (item.status === "posted") note("posted");
    else if (item.status === "cancelled") {
      if (operator.asked.has(item.id)) note("cancelled");
      else settled.push(`item ${item.id} is cancelled though nobody asked`);
    } else if (item.status === "failed") {
      if (item.errorClass === "destination_rejected") note("failed: destination rejected");
      // A thread counts each of its posts against the cap: one longer than the cap can never go.
      else if (item.errorClass === "permanent" && 1 + item.thread.length > account.group.perHour) note("failed: thread longer than the hourly cap");
      else if (item.attempts > config.engine.retryMax) note("failed: retries spent");
      else settled.push(`item ${item.id} failed (${item.errorClass}) after ${item.attempts} attempt(s), with retries left`);
    } else if (item.status === "needs_review" && account.connector === "mastodon") {
      // Mastodon keeps no marker: a lookup recognises a status only by what the attempt sent
      // (lookup's opts.sent); where it still cannot tell (or an engine without `sent`), a human decides.
      note("needs review: mastodon lookup could not tell");
    } else if (waiting && item.parkedForever && account.abandoned && (state === "needs_reconnect" || state === "restricted")) {
      note(`parked: account ${state.replace("_", " ")}`);
    } else if (item.status === "rate_limited" && item.waitsLong && account.group.name === "capped" && hourUsed(ledger.get(account.id) ?? [], Date.now()) + 1 + item.thread.length > account.group.perHour) {
      note("waiting: hourly cap reached");
    } else {
      settled.push(`item ${item.id} of @${account.handle} (${state}) is ${item.status}${item.parkedForever ? " until resumed" : ""}`);
    }
  }
  for (const account of world.accounts) {
    const state = states.get(account.id)!;
    if (!account.abandoned && state !== "active" && state !== "connected") settled.push(`@${account.handle} was left ${state}`);
  }
  // Recovery runs when a worker starts a processing run (at least every 60 s, the run budget).
  const scanMs = 60_000;
  if (operator.maxOverdueMs > config.engine.leaseSeconds * 1000 + scanMs) {
    settled.push(`an item stayed leased ${Math.round(operator.maxOverdueMs)} ms past its lease's expiry`);
  }

  // 4. Pacer's records: a history row for every attempt, and exactly one applied posted/found per posted item.
  const history = await loadHistory(sql, world);
  const records: string[] = [];
  for (const item of items) {
    const h = history.get(item.id) ?? { publish: [], rateLimitedOnly: [], verify: [], settled: [] };
    const expect = (n: number) => Array.from({ length: n }, (_, k) => k + 1).join(",");
    // A rate-limited attempt gives its number back (it does not spend a retry), so the history may
    // also hold the next number, for rate-limited rows only.
    const counted = h.publish.filter((a) => a <= item.attempts);
    const givenBack = h.publish.filter((a) => a > item.attempts);
    if (counted.join(",") !== expect(item.attempts) || givenBack.some((a) => a !== item.attempts + 1 || !h.rateLimitedOnly.includes(a))) {
      records.push(`item ${item.id} made ${item.attempts} publish attempt(s); the history has attempts [${h.publish}] (only rate-limited: [${h.rateLimitedOnly}])`);
    }
    if (h.verify.join(",") !== expect(item.verifyAttempts)) {
      records.push(`item ${item.id} made ${item.verifyAttempts} verification(s); the history has [${h.verify}]`);
    }
    const wanted = item.status === "posted" ? 1 : 0;
    if (h.settled.length !== wanted) records.push(`item ${item.id} is ${item.status} with ${h.settled.length} applied posted/found row(s)`);
    else if (wanted && h.settled[0] !== item.externalId) records.push(`item ${item.id}'s applied row says ${h.settled[0]}, the item ${item.externalId}`);
  }

  // 5. Limits. Pacer's ledger (one row per post a claim sends: a thread's rows share its claim's time)
  //    holds the gap between claims and the hourly cap on posts exactly;
  //    the sandbox's own clock holds the hourly cap exactly, and shows each post sent under its own
  //    earlier claim. The sandbox's gaps are only reported: a send lags its claim by a variable
  //    amount (the claim's commit, the worker's first request, the network), so two posts of one
  //    account can land closer together than the claims that sent them.
  const limits: string[] = [];
  const minSandboxGapMs: Record<string, number> = {};
  const runClaims = new Map(
    world.accounts.map((a) => [a.id, (ledger.get(a.id) ?? []).filter((t) => !a.earlier.some((e) => e.getTime() === t))]),
  );
  // Window-group accounts the full earlier hour held back: their urgent posts, due from the start,
  // were first claimed only once a slot opened, while other accounts were being claimed before that.
  const firstClaim = [...runClaims.values()].reduce((first, times) => Math.min(first, times[0] ?? Infinity), Infinity);
  let windowHeld = 0;
  for (const account of world.accounts) {
    const { perHour, minGapMs } = account.group;
    const claims = ledger.get(account.id) ?? [];
    const fromRun = runClaims.get(account.id)!;
    const claimTimes = [...new Set(fromRun)];
    for (let k = 1; k < claimTimes.length; k++) {
      if (claimTimes[k] - claimTimes[k - 1] < minGapMs) limits.push(`@${account.handle}: claims ${claimTimes[k] - claimTimes[k - 1]} ms apart (minimum ${minGapMs})`);
    }
    const overLedger = peakInHour(claims);
    if (account.group.name === "window") {
      const firstSlot = account.earlier[0].getTime() + HOUR;
      if (fromRun.length && fromRun[0] > firstSlot && firstClaim < firstSlot) windowHeld++;
    }
    if (overLedger > perHour) limits.push(`@${account.handle}: ${overLedger} claims within an hour in the ledger (cap ${perHour})`);

    const times = postsOf(account).map((p) => Date.parse(p.created_at)).sort((a, b) => a - b);
    const seenByPlatform = peakInHour([...account.earlier.map((d) => d.getTime()), ...times], times);
    if (seenByPlatform > perHour) limits.push(`@${account.handle}: ${seenByPlatform} posts within an hour on the sandbox (cap ${perHour})`);
    times.forEach((t, k) => {
      const before = fromRun.filter((c) => c <= t).length;
      if (before <= k) limits.push(`@${account.handle}: post ${k + 1} on the sandbox (${iso(t)}) has only ${before} claim(s) before it`);
    });
    for (let k = 1; k < times.length; k++) {
      minSandboxGapMs[account.group.name] = Math.min(minSandboxGapMs[account.group.name] ?? Infinity, times[k] - times[k - 1]);
    }
  }

  // 6. Parked accounts: no claim once the operator saw the park, no post after what was in flight landed.
  const parks: string[] = [];
  // A request in flight when the park was seen may still land: until its timeout, or a late commit.
  const inFlightMs = Math.max(config.engine.callTimeoutMs, config.lateCommitMs) + 500;
  for (const w of operator.windows) {
    const account = world.accountById.get(w.accountId)!;
    const end = w.resumedAt ?? Infinity;
    for (const t of ledger.get(w.accountId) ?? []) {
      if (t > w.seenAt + CLAIM_SLACK_MS && t < end - CLAIM_SLACK_MS) parks.push(`@${account.handle} was claimed at ${iso(t)} while ${w.state} (${span(w)})`);
    }
    for (const post of postsOf(account)) {
      const t = Date.parse(post.created_at);
      if (t > w.seenAt + inFlightMs && t < end) parks.push(`@${account.handle} published ${post.id} at ${post.created_at} while ${w.state} (${span(w)})`);
    }
  }

  // 7. The faults really were that frequent: the sandbox's and each fake's.
  const faults: string[] = [];
  const fakeFaults = input.fakes.faultCounts();
  for (const connector of FAKE_CONNECTORS) {
    const { requests, fired } = fakeFaults[connector];
    // Dealt from decks of 100 at the run's share: every full deck holds exactly its share of each kind.
    const atLeast = Math.round(config.faultShare * 100) * Math.floor(requests / 100);
    if (requests < 100) faults.push(`${connector}: only ${requests} publish requests met the fake's faults`);
    for (const [kind, n] of Object.entries(fired)) {
      if (n < atLeast) faults.push(`${connector}: ${kind} fired ${n} times in ${requests} publish requests (at least ${atLeast} expected)`);
    }
  }

  // 8. Exactly once on each fake, from its own record.
  const onFakes = auditFakes(input.fakes, world.accounts, items);
  const rates = Object.fromEntries(FAULT_KINDS.map((k) => [k, input.faults.fired[k] / Math.max(1, input.faults.requests)])) as Record<FaultKind, number>;
  for (const k of FAULT_KINDS) {
    if (rates[k] < 0.05) faults.push(`${k} fired on ${(rates[k] * 100).toFixed(1)}% of ${input.faults.requests} publish requests`);
  }

  return {
    violations: Object.fromEntries(
      Object.entries({ exactlyOnce, reconciliation, settled, records, limits, parks, faults, fakes: onFakes.violations }).map(([k, v]) => [k, firstOf(v)]),
    ),
    figures: {
      items: items.length,
      byStatus: countBy(items.map((i) => i.status)),
      explained,
      accepted: network.stats().accepted,
      responsesLost: network.stats().responsesLost,
      rates,
      minSandboxGapMs,
      windowHeld,
      parks: operator.windows.length,
      stillParked: operator.openWindows().length,
      byConnector: onFakes.byConnector,
      fakeFaults,
    },
  };
}

/** Ledger times (ms) per account, oldest first. */
async function loadLedger(sql: Sql, world: World): Promise<Map<string, number[]>> {
  const rows = await sql`select account_id, array_agg((extract(epoch from at) * 1000)::float8 order by at) as times
                         from private.rate_limit_ledger where account_id = any(${world.accounts.map((a) => a.id)}) and action = 'post'
                         group by account_id`;
  return new Map(rows.map((r) => [r.account_id, (r.times as number[]).map((t) => Math.round(t))]));
}

async function loadHistory(sql: Sql, world: World) {
  const rows = await sql`
    select h.queue_item_id as id,
           coalesce(array_agg(distinct h.attempt) filter (where h.kind = 'publish'), '{}') as publish,
           coalesce(array_agg(distinct h.attempt) filter (where h.kind = 'verify'), '{}') as verify,
           coalesce(array_agg(distinct h.attempt) filter (where h.kind = 'publish' and h.outcome = 'rate_limited'), '{}') as rate_limited,
           coalesce(array_agg(distinct h.attempt) filter (where h.kind = 'publish' and h.outcome <> 'rate_limited'), '{}') as not_rate_limited,
           coalesce(array_agg(h.external_id) filter (where h.applied and h.outcome in ('posted', 'found')), '{}') as settled
    from public.posting_history h where h.workspace_id = any(${world.workspaceIds})
    group by h.queue_item_id`;
  return new Map(
    rows.map((r) => [
      Number(r.id),
      {
        publish: (r.publish as number[]).sort((a, b) => a - b),
        /** Attempt numbers whose every publish row was rate-limited. */
        rateLimitedOnly: (r.rate_limited as number[]).filter((a) => !(r.not_rate_limited as number[]).includes(a)),
        verify: (r.verify as number[]).sort((a, b) => a - b),
        settled: r.settled as string[],
      },
    ]),
  );
}

/** Entries in the hour up to `now`, as the claim counts them (later than an hour ago). */
function hourUsed(times: number[], now: number): number {
  return times.filter((t) => t > now - HOUR && t <= now).length;
}

/** The most entries of `times` within any hour ending at one of `at` (default: each entry). */
function peakInHour(times: number[], at: number[] = times): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (const t of at) peak = Math.max(peak, sorted.filter((s) => s > t - HOUR && s <= t).length);
  return peak;
}

/** A list short enough to read in a failure message. */
function firstOf(list: string[], n = 25): string[] {
  return list.length <= n ? list : [...list.slice(0, n), `… and ${list.length - n} more`];
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

const iso = (t: number) => new Date(t).toISOString();
const span = (w: ParkWindow) => `seen ${iso(w.seenAt)}, resumed ${w.resumedAt === null ? "never" : iso(w.resumedAt)}`;
