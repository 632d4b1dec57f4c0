// The chaos test: thousands of posts over many accounts (two fifths on the sandbox, a fifth each on the
// local Mastodon, Bluesky and Upload-Post fakes, connected through their connectors), every platform fault injected at
// ≥5% of publish requests (late commits past the client's timeout among them), and every runtime that
// publishes doing so side by side: Node worker processes SIGKILLed at random and started again, the
// process-queue Edge Function (Deno, through the local gateway), and "process now" inside a real
// Next.js server (`next dev`; its patched fetch is what the connectors get there), pressed by the
// workspaces' signed-in owners as often as the API allows. Postgres restarts once mid-run. When the
// queue settles, each platform's own record must show every non-cancelled, not permanently failed
// post published exactly once, inside every limit, and agree with Pacer's; the history must show each
// runtime among the publishers. Size: PACER_CHAOS_POSTS and PACER_CHAOS_ACCOUNTS (default 1,000 over 50).
import { afterAll, expect, it } from "vitest";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { between, buildWorld, chaosConfig, countFaults, sandboxFaults, seeded, type Sql, type World } from "./scene.ts";
import { WorkerFleet } from "./workers.ts";
import { startChaosGateway, startEdgeRuns } from "./edge.ts";
import { signUpPressers, startNextApp, startProcessNow } from "./next.ts";
import { startPrivateDatabase } from "./database.ts";
import { Operator } from "./operator.ts";
import { audit } from "./audit.ts";
import { startFakes, startFakeFaults } from "./platforms.ts";

const config = chaosConfig();
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it(
  `publishes ${config.posts} posts over ${config.accounts} accounts exactly once through faults, kills and a database restart`,
  async () => {
    const random = seeded(config.seed);
    // Our own Postgres, because this test restarts it.
    const db = await startPrivateDatabase("chaos");
    cleanup.push(() => db.stop());
    const sql = db.sql;

    // The sandbox outlives every worker. Its own limits are out of the way and its duplicate check is
    // off, so a blind re-post shows up as a client_ref stored twice instead of being refused.
    const sandbox: Sandbox = await startSandbox({
      port: 0,
      seed: config.seed,
      config: { rateLimit: { posts: 1_000_000, windowMs: 60_000 }, duplicateWindow: 0 },
    });
    cleanup.push(() => sandbox.stop());
    sandbox.network.setFaults(undefined, sandboxFaults(config));
    const faults = countFaults(sandbox.network, config);
    // The real platforms' fakes, outliving every worker too.
    const fakes = await startFakes();
    cleanup.push(() => fakes.stop());

    const e = config.engine;
    // The same engine settings for the Node workers and the Edge Function (lib/engine/settings.ts reads them).
    const engineEnv = {
      SUPABASE_DB_URL: db.url,
      PACER_SANDBOX_URL: sandbox.url,
      // The real connectors and where their platforms are (lib/connectors/registry.ts).
      ...fakes.env,
      // The sandbox and the fakes are on loopback, which connectors reach only where the operator allows it.
      PACER_ALLOWED_HOSTS: [new URL(sandbox.url).host, ...fakes.hosts].join(","),
      // The key the accounts' tokens were sealed with (tests/support/sandbox.ts).
      PACER_CREDENTIALS_KEY: process.env.PACER_CREDENTIALS_KEY!,
      PACER_WORKER_CONCURRENCY: String(e.concurrency),
      PACER_BATCH_SIZE: String(e.batchSize),
      PACER_LEASE_SECONDS: String(e.leaseSeconds),
      PACER_CALL_TIMEOUT_MS: String(e.callTimeoutMs),
      PACER_RETRY_BASE_MS: String(e.retryBaseMs),
      PACER_RETRY_MAX: String(e.retryMax),
      PACER_VERIFY_RETRY_MS: e.verifyRetryMs.join(","),
    };

    // The gateway (Auth for the web app, the Edge Function) and the web app, up before the world is
    // built: the world's clock (the window group's earlier hour) starts when it is.
    const edgeLog: string[] = [];
    const gateway = await startChaosGateway({
      dbUrl: db.url,
      functionEnv: { ...engineEnv, PACER_RUN_BUDGET_MS: String(config.edge.budgetMs) },
      log: (line) => edgeLog.push(line) > 200 && edgeLog.shift(),
    });
    cleanup.push(() => gateway.stop());
    const app = await startNextApp({ env: { ...engineEnv, ...gateway.appEnv } });
    cleanup.push(() => app.stop());
    const signedUp = await signUpPressers(gateway, config.processNow.pressersPerWorkspace * 3);

    // Accounts connected as the connect flows store them; verification on the run's short clock for
    // every platform (the rule, send + timeout + margin then a confirming lookup, must hold at these
    // settings, not only at the 30 s defaults).
    const world = await buildWorld(sql, config, random, sandbox.url, fakes, engineEnv);
    for (const account of world.accounts) {
      if (account.connector === "sandbox" && config.honoursIdempotencyKey(account.index)) sandbox.network.setIdempotencyKeys(account.handle, true);
    }
    // Connecting is not what this run tests: the fakes' faults start now.
    startFakeFaults(fakes, config);
    const fleet = new WorkerFleet(config.workers, engineEnv);
    cleanup.push(() => fleet.stopAll(2000));
    const operator = new Operator(sql, world, config, random);
    const pressers = await signedUp.join(sql, world.workspaceIds);

    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const started = Date.now();
    fleet.startAll();
    const edge = startEdgeRuns({ gateway, everyMs: config.edge.everyMs });
    cleanup.push(() => edge.stop());
    const processNow = startProcessNow({ app, pressers });
    cleanup.push(() => processNow.stop());
    let restarts = 0;
    let restarting: Promise<void> | null = null;
    let nextKill = started + between(random, config.killEveryMs);
    const cancelRounds = [1500, 3000, 4500, 6000, 7500].map((ms) => started + ms);
    const perCancelRound = Math.round((config.cancelShare * world.items) / cancelRounds.length);
    let nextProgress = started;
    let unsettled = world.items;
    const forgotten = new Map<number, number>(); // item → when first seen parked under a publishable account

    while (unsettled > 0 || restarts === 0) {
      if (Date.now() - started > config.timeoutMs) {
        throw new Error(
          `The queue did not settle in ${config.timeoutMs} ms: ${await describeUnsettled(sql, world)}\n${fleet.output()}\n${edgeLog.join("\n")}\n${app.output()}`,
        );
      }
      await sleep(100);
      await operator.tick();
      if (Date.now() >= nextKill) {
        await fleet.killAndRestart(Math.floor(random() * config.workers));
        nextKill = Date.now() + between(random, config.killEveryMs);
      }
      if (cancelRounds.length && Date.now() >= cancelRounds[0]) {
        cancelRounds.shift();
        await operator.cancelSome(perCancelRound);
      }
      if (Date.now() >= nextProgress) {
        nextProgress = Date.now() + 500;
        const progress = await settledCount(sql, world).catch(() => null);
        if (progress) unsettled = progress.unsettled;
        // An item parked "until resumed" whose account is publishable again will never run: fail now.
        const stranded = await strandedItems(sql, world).catch(() => []);
        for (const item of stranded) {
          const since = forgotten.get(item.id) ?? Date.now();
          forgotten.set(item.id, since);
          if (Date.now() - since > 5000) {
            throw new Error(
              `item ${item.id} of @${item.handle} waits until its account is resumed, but @${item.handle} has been ${item.state} for over 5 s: ` +
                `the release of the account's parked items missed it (${stranded.length} item(s) like it)`,
            );
          }
        }
        // One restart, mid-run: the workers must ride out the outage.
        if (progress && restarts === 0 && !restarting && progress.terminal >= config.restartAtSettled * world.items) {
          restarting = db.restart(config.restartDownMs).then(() => {
            restarts++;
            restarting = null;
          });
        }
      }
    }
    await fleet.stopAll();
    await edge.stop();
    await processNow.stop();
    const durationMs = Date.now() - started;
    await app.stop();

    const report = await audit({
      sql,
      world,
      config,
      sandbox,
      operator,
      faults,
      fakes,
    });
    const f = report.figures;
    if (process.env.PACER_CHAOS_DEBUG) {
      console.log(`event loop delay of the sandbox's process: p50 ${lag.percentile(50) / 1e6} ms, p99 ${lag.percentile(99) / 1e6} ms, max ${lag.max / 1e6} ms`);
      const rows = await sql`select ${runtimeOf(sql)} as runtime, kind, outcome, left(error_message, 140) as m, count(*)::int as n
        from public.posting_history where workspace_id = any(${world.workspaceIds}) group by 1, 2, 3, 4 order by 5 desc limit 40`;
      console.log(rows.map((r) => `${r.runtime} ${r.kind}:${r.outcome} ${r.n} ${r.m ?? ""}`).join("\n"));
    }
    // A post stored twice: each copy's arrival and store time (a store long after arrival means the
    // sandbox's process was starved past the scene's margin) beside the item's every attempt, and
    // the sandbox process's event-loop delay, so a failure says which side broke its promise.
    const duplicates = sandbox.stats().duplicateClientRefs;
    if (duplicates.length) console.log(`event loop delay of the sandbox's process: p99 ${lag.percentile(99) / 1e6} ms, max ${lag.max / 1e6} ms`);
    for (const { client_ref } of duplicates.slice(0, 6)) {
      const posts = sandbox.network.postsByClientRef(client_ref).map((p) => {
        const stored = Date.parse(p.created_at);
        const arrived = p.received_at_ms ? `arrived ${new Date(p.received_at_ms).toISOString().slice(14)}, stored ${stored - p.received_at_ms} ms later` : "";
        return `#${p.id} ${arrived}${p.response_fault ? ` (${p.response_fault})` : ""}`;
      });
      const steps = await sql`select h.kind, h.attempt, h.outcome, h.applied, h.worker, h.started_at, h.finished_at from public.posting_history h
        join public.queue_items q on q.id = h.queue_item_id where q.idempotency_key = ${client_ref} order by h.id`;
      console.log(`duplicate ${client_ref}: copies ${posts.join("; ")}; attempts ` +
        steps.map((h) => `${h.kind}#${h.attempt}:${h.outcome}${h.applied ? "" : "(stale)"}@${h.worker} ${h.started_at.toISOString().slice(14)}→${h.finished_at.toISOString().slice(14)}`).join(" | "));
    }
    // A fake holding what Pacer does not count as posted, or a post landing while its account was
    // parked: each such item's history, to see how (and which runtime sent it).
    const parkedPosts = report.violations.parks.flatMap((v) => {
      const [, handle, postId] = /^@(\S+) published (\S+) at/.exec(v) ?? [];
      const key = handle && sandbox.network.accounts.get(handle)?.posts.find((p) => p.id === postId)?.client_ref;
      return key ? [key] : [];
    });
    const parkedItems = parkedPosts.length ? (await sql`select id from public.queue_items where idempotency_key = any(${parkedPosts})`).map((r) => String(r.id)) : [];
    for (const id of [...new Set([...report.violations.fakes.flatMap((v) => /^item (\d+)/.exec(v)?.[1] ?? []), ...parkedItems])].slice(0, 6)) {
      const steps = await sql`select kind, attempt, outcome, applied, external_id, worker, started_at, finished_at, left(error_message, 100) as m
        from public.posting_history where queue_item_id = ${id} order by id`;
      console.log(`item ${id}: ` + steps.map((h) => `${h.kind}#${h.attempt}:${h.outcome}${h.applied ? "" : "(stale)"}${h.external_id ? `=${h.external_id}` : ""}@${h.worker} ` +
        `${h.started_at.toISOString().slice(14)}→${h.finished_at.toISOString().slice(14)} ${h.m ?? ""}`).join(" | "));
    }
    // Who published: each runtime signs the history's worker column its own way (runtimeOf).
    const byRuntime = Object.fromEntries(
      (
        await sql`
          select ${runtimeOf(sql)} as runtime,
                 count(*) filter (where kind = 'publish' and outcome = 'posted')::int as posted,
                 count(*) filter (where kind = 'publish' and outcome = 'unknown')::int as unknown,
                 count(*) filter (where kind = 'verify')::int as verified
          from public.posting_history where workspace_id = any(${world.workspaceIds}) group by 1`
      ).map((r) => [r.runtime, { posted: r.posted as number, unknown: r.unknown as number, verified: r.verified as number }]),
    );
    const none = { posted: 0, unknown: 0, verified: 0 };
    const byEdge = byRuntime.edge ?? none;
    const byNext = byRuntime.next ?? none;
    console.log(
      `chaos: ${world.items} posts over ${world.accounts.length} accounts in ${(durationMs / 1000).toFixed(1)} s; ` +
        `${JSON.stringify(f.explained)}; sandbox accepted ${f.accepted} (${f.responsesLost} with the response lost); ` +
        `${faults.requests} publish requests, faults fired ${JSON.stringify(faults.fired)}; ` +
        `Node workers: ${JSON.stringify(byRuntime.node ?? none)}; ` +
        `Edge Function: ${edge.ok} runs (${edge.failed} failed calls), ${byEdge.posted} posted, ${byEdge.unknown} unknown, ${byEdge.verified} lookups; ` +
        `Next.js process now (ready in ${(app.readyInMs / 1000).toFixed(1)} s): calls answered ${JSON.stringify(processNow.byStatus)}, ` +
        `${byNext.posted} posted, ${byNext.unknown} unknown, ${byNext.verified} lookups; ` +
        `${fleet.kills} SIGKILLs, ${fleet.starts} worker starts (${fleet.crashes.length} after a crash), ${restarts} Postgres restart; ` +
        `${f.parks} account parks (${f.stillParked} left parked), ${f.windowHeld} accounts held back by a full hourly window, cancels: ${operator.cancelled} at once, ${operator.cancelRequested} mid-publish, ${operator.cancelRefused} too late; ` +
        `longest lease overdue ${Math.round(operator.maxOverdueMs)} ms; closest posts of one account on the sandbox (ms) ${JSON.stringify(f.minSandboxGapMs)}`,
    );
    for (const [connector, c] of Object.entries(f.byConnector)) {
      const dice = f.fakeFaults[connector as keyof typeof f.fakeFaults];
      console.log(
        `chaos on ${connector}: ${c.items} posts over ${c.accounts} accounts, ${JSON.stringify(c.byStatus)}; the platform holds ${c.held} ` +
          `(items held twice or more: ${c.duplicates}); ` +
          `${dice.requests} publish requests, faults fired ${JSON.stringify(dice.fired)}`,
      );
    }
    // A worker may die only when killed: one that exits on its own (say, on the database restart) is a bug.
    const crashes = fleet.crashes.map((c) => `${c.worker} exited (${c.signal ?? `code ${c.code}`}) by itself:\n${c.lastLines.join("\n")}`);
    expect({ crashes, ...report.violations }).toEqual({
      crashes: [],
      exactlyOnce: [],
      reconciliation: [],
      settled: [],
      records: [],
      limits: [],
      parks: [],
      faults: [],
      fakes: [],
    });
    // The scene really exercised what it claims to: kills, parks that stayed, caps that bound.
    expect(fleet.kills).toBeGreaterThan(0);
    // The Edge Function (Deno) published beside the Node workers, and met faults that lose the response.
    expect(byEdge.posted).toBeGreaterThan(0);
    expect(byEdge.unknown).toBeGreaterThan(0);
    // So did "process now" inside Next.js, through Next's patched fetch.
    expect(byNext.posted).toBeGreaterThan(0);
    expect(byNext.unknown).toBeGreaterThan(0);
    expect(f.stillParked).toBeGreaterThan(0);
    expect(f.explained["waiting: hourly cap reached"]).toBeGreaterThan(0);
    expect(f.windowHeld).toBeGreaterThan(0);
  },
  config.timeoutMs + 120_000,
);

/**
 * Which runtime wrote a history row, from its worker column: the chaos workers' PACER_WORKER_ID
 * (chaos-w…), the Edge Function's edge-…, and process now's now-… (lib/queue processQueueNow).
 */
function runtimeOf(sql: Sql) {
  return sql`case when worker like 'edge-%' then 'edge' when worker like 'now-%' then 'next' when worker like 'chaos-w%' then 'node' else worker end`;
}

/** The scene's settled states: terminal, or parked for a reason the scene gave the item. */
function settledWhere(sql: Sql, world: World) {
  const abandoned = world.accounts.filter((a) => a.abandoned).map((a) => a.id);
  // Mastodon lookups that cannot recognise a status (no `sent` from the engine) end with a human.
  const mastodon = world.accounts.filter((a) => a.connector === "mastodon").map((a) => a.id);
  const capped = world.groups.find((g) => g.name === "capped")!.workspaceId;
  return sql`(q.status in ('posted', 'failed', 'cancelled')
              or (q.status = 'needs_review' and a.id = any(${mastodon}::uuid[]))
              or (q.status in ('pending', 'rate_limited') and q.run_at = 'infinity'
                  and a.id = any(${abandoned}::uuid[]) and a.state in ('needs_reconnect', 'restricted'))
              or (q.status = 'rate_limited' and q.run_at > now() + interval '30 minutes' and q.workspace_id = ${capped}))`;
}

async function settledCount(sql: Sql, world: World) {
  const [row] = await sql`
    select count(*) filter (where q.status in ('posted', 'failed', 'cancelled'))::int as terminal,
           count(*) filter (where not ${settledWhere(sql, world)})::int as unsettled
    from public.queue_items q join public.social_accounts a on a.id = q.account_id
    where q.workspace_id = any(${world.workspaceIds})`;
  return row as { terminal: number; unsettled: number };
}

/** Items parked until their account is resumed, whose account is publishable. */
async function strandedItems(sql: Sql, world: World) {
  const rows = await sql`
    select q.id, a.handle, a.state from public.queue_items q join public.social_accounts a on a.id = q.account_id
    where q.workspace_id = any(${world.workspaceIds}) and q.status in ('pending', 'rate_limited')
      and q.run_at = 'infinity' and a.state in ('connected', 'active')`;
  return rows.map((r) => ({ id: Number(r.id), handle: r.handle as string, state: r.state as string }));
}

/** The first unsettled items, for the failure message. */
async function describeUnsettled(sql: Sql, world: World): Promise<string> {
  const rows = await sql`
    select q.id, q.status, a.handle, a.state, q.run_at::text as run_at, q.attempts, q.verify_attempts, q.error_class, left(q.last_error, 160) as last_error, q.worker, q.lease_expires_at::text as lease_expires_at
    from public.queue_items q join public.social_accounts a on a.id = q.account_id
    where q.workspace_id = any(${world.workspaceIds}) and not ${settledWhere(sql, world)}
    order by q.id limit 20`;
  return rows
    .map((r) => `item ${r.id} of @${r.handle} (${r.state}) ${r.status} run_at ${r.run_at} attempts ${r.attempts}/${r.verify_attempts} ${r.error_class ?? ""} by ${r.worker} (${r.last_error ?? ""}) lease ${r.lease_expires_at ?? "none"}`)
    .join("; ");
}
