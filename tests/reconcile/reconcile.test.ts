// Reconciliation against a real Postgres and the sandbox platform: posts planted on the sandbox with
// Pacer's marker and no posted record are recorded, a posted record whose post was deleted is
// flagged, nothing else moves, and a second run changes nothing. Items are scheduled for tomorrow,
// so no processing run elsewhere in the suite touches them; every run is scoped to this file's workspaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { startSandbox, type Sandbox } from "../../local/sandbox/index.ts";
import { connect, makeUser, asUser, errorOf, type Sql } from "../support/db";
import { sandboxAccount, sandboxConnector } from "../support/sandbox";
import { reconcileAccounts, type ReconcileReport } from "../../lib/reconcile/run.ts";

let sql: Sql;
let sandbox: Sandbox;

beforeAll(async () => {
  sql = connect();
  sandbox = await startSandbox({ port: 0, seed: 9 });
});
afterAll(async () => {
  await sandbox.stop();
  await sql.end();
});

const TOMORROW = () => new Date(Date.now() + 24 * 3600_000);

interface Tenant {
  userId: string;
  workspaceId: string;
  accountId: string;
  handle: string;
  token: string;
}

async function tenant(label: string): Promise<Tenant> {
  const user = await makeUser(sql, label);
  const made = await sandboxAccount(sandbox.url, `rc_${randomUUID().slice(0, 10)}`);
  const [a] = await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted, state)
                        values (${user.workspaceId}, 'sandbox', ${made.handle}, ${made.handle}, ${made.sealed}, 'active') returning id`;
  return { userId: user.id, workspaceId: user.workspaceId, accountId: a.id, handle: made.handle, token: made.token };
}

interface Item {
  id: number;
  key: string;
}

async function item(t: Tenant, status: string, extra: { externalId?: string; externalUrl?: string; postedAt?: Date } = {}): Promise<Item> {
  const [p] = await sql`insert into public.posts (workspace_id, text) values (${t.workspaceId}, ${`reconcile ${randomUUID()}`}) returning id`;
  const [q] = await sql`
    insert into public.queue_items (workspace_id, post_id, account_id, scheduled_for, run_at, status, attempts, external_id, external_url,
                                    posted_at, last_error)
    values (${t.workspaceId}, ${p.id}, ${t.accountId}, ${TOMORROW()}, ${TOMORROW()}, ${status}, 1,
            ${extra.externalId ?? null}, ${extra.externalUrl ?? null}, ${extra.postedAt ?? null},
            ${status === "posted" ? null : "the platform could not be asked"})
    returning id, idempotency_key`;
  return { id: Number(q.id), key: q.idempotency_key };
}

/** Publishes on the sandbox as the account's owner (or a worker whose reply was lost) would: with a client_ref. */
async function plant(t: Tenant, clientRef: string | null): Promise<{ id: string; url: string }> {
  const res = await fetch(`${sandbox.url}/v1/accounts/${t.handle}/posts`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
    body: JSON.stringify({ text: `planted ${randomUUID()}`, client_ref: clientRef }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; url: string };
}

/** A post stored on the sandbox directly (the way a publish commits it), with a marker and a creation time. */
function commitPost(t: Tenant, clientRef: string | null, createdAt: Date) {
  const post = sandbox.network.commit(sandbox.network.accounts.get(t.handle)!, {
    text: `committed ${randomUUID()}`, media_urls: [], first_comment: null, destination: null, client_ref: clientRef,
  });
  post.created_at = createdAt.toISOString();
  return post;
}

/** The engine's record of a publish the platform answered with this post. */
async function publishedAs(t: Tenant, i: Item, externalId: string, at: Date) {
  await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                                started_at, finished_at, outcome, external_id)
            values (${i.id}, ${t.workspaceId}, ${t.accountId}, 'sandbox', 'post', 'publish', 1, ${at}, ${at}, 'posted', ${externalId})`;
}

/** An editor's acknowledgement, committed (tests/support/db's asUser rolls back). */
async function acknowledgeMissing(t: Tenant, ids: number[]) {
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: t.userId, role: "authenticated" })}, true),
                    set_config('role', 'authenticated', true)`;
    const [r] = await tx`select private.acknowledge_missing_posts(${t.workspaceId}, ${ids}::bigint[]) as n`;
    return r.n as number;
  });
}

/** Items the operator's duplicate figure (and its alert) counts in this workspace over the last hour. */
async function countedDuplicates(t: Tenant) {
  const rows = await sql`select queue_item_id from private.ops_published_items(now() - interval '1 hour', now() + interval '1 minute', ${t.workspaceId})
                         where duplicate order by queue_item_id`;
  return rows.map((r) => Number(r.queue_item_id));
}

const run = (t: Tenant) =>
  reconcileAccounts({ sql, connectorFor: () => sandboxConnector(sandbox.url), workspaceId: t.workspaceId, minAgeMs: 0, budgetMs: 10_000 });

/** Everything reconciliation may change for a workspace, to compare before and after a run. */
async function stateOf(t: Tenant) {
  const items = await sql`select id, status, external_id, external_url, posted_at, last_error from public.queue_items
                          where workspace_id = ${t.workspaceId} order by id`;
  const history = await sql`select count(*)::int as n from public.posting_history where workspace_id = ${t.workspaceId}`;
  const missing = await sql`select queue_item_id, resolved_at from public.missing_posts where workspace_id = ${t.workspaceId} order by queue_item_id`;
  const duplicates = await sql`select queue_item_id, external_id, noticed_at from public.duplicate_posts where workspace_id = ${t.workspaceId}
                               order by queue_item_id, external_id`;
  return { items, history: history[0].n, missing, duplicates };
}

const ids = (changes: ReconcileReport["recorded"]) => changes.map((c) => c.queueItemId).sort((a, b) => a - b);

describe("reconciliation", () => {
  it("records planted posts carrying Pacer's marker, flags a deleted post, and changes nothing on a second run", async () => {
    const alice = await tenant("rc-alice");
    const bob = await tenant("rc-bob");
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);

    // Posts that landed while Pacer believed otherwise: needs review, pending after a "confirmed" absence, failed.
    const review = await item(alice, "needs_review");
    const pending = await item(alice, "pending");
    const failed = await item(alice, "failed");
    const plantedReview = await plant(alice, review.key);
    const plantedPending = await plant(alice, pending.key);
    await plant(alice, failed.key);
    // A posted record whose post is still there, and one whose post the owner deleted.
    const kept = await plant(alice, null);
    const stillThere = await item(alice, "posted", { externalId: kept.id, postedAt: tenMinutesAgo });
    const doomed = await plant(alice, null);
    const deleted = await item(alice, "posted", { externalId: doomed.id, postedAt: tenMinutesAgo });
    expect(sandbox.network.deletePost(doomed.id)).not.toBeNull();
    // An item with no post anywhere stays as it is; posts that are not Pacer's are ignored.
    const untouched = await item(alice, "needs_review");
    await plant(alice, "not-a-pacer-key");
    // Bob's item's key on Alice's account: never settles Bob's item (nor anything of Alice's).
    const bobs = await item(bob, "needs_review");
    await plant(alice, bobs.key);

    const first = await run(alice);
    expect(first.failed).toEqual([]);
    expect(first.accounts).toBe(1);
    expect(ids(first.recorded)).toEqual([review.id, pending.id, failed.id].sort((a, b) => a - b));
    expect(ids(first.flagged)).toEqual([deleted.id]);
    expect(first.reappeared).toEqual([]);

    const [r] = await sql`select status, external_id, external_url, last_error from public.queue_items where id = ${review.id}`;
    expect(r).toEqual({ status: "posted", external_id: plantedReview.id, external_url: plantedReview.url, last_error: null });
    const [p] = await sql`select status, external_id from public.queue_items where id = ${pending.id}`;
    expect(p).toEqual({ status: "posted", external_id: plantedPending.id });
    const history = await sql`select kind, outcome, external_id, worker from public.posting_history where queue_item_id = ${review.id}`;
    expect(history).toEqual([{ kind: "reconcile", outcome: "found", external_id: plantedReview.id, worker: "reconcile" }]);

    const status = async (id: number) => (await sql`select status from public.queue_items where id = ${id}`)[0].status;
    expect(await status(untouched.id)).toBe("needs_review");
    expect(await status(bobs.id)).toBe("needs_review");
    expect(await status(stillThere.id)).toBe("posted");
    const missing = await sql`select queue_item_id, external_id, resolved_at from public.missing_posts where workspace_id = ${alice.workspaceId}`;
    expect(missing).toEqual([{ queue_item_id: String(deleted.id), external_id: doomed.id, resolved_at: null }]);

    // A second run reads the same posts and changes nothing.
    const before = await stateOf(alice);
    const second = await run(alice);
    expect(second.accounts).toBe(1);
    expect([second.recorded, second.flagged, second.reappeared, second.failed]).toEqual([[], [], [], []]);
    expect(await stateOf(alice)).toEqual(before);
  }, 60_000);

  it("records a second post carrying one item's marker as a duplicate, once, where the operator's duplicate alert counts it", async () => {
    const frank = await tenant("rc-frank");
    const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
    // Posted by the engine (publish answered with its post), then published again: two posts of one item.
    const posted = await item(frank, "posted", { postedAt: minutesAgo(20) });
    const first = commitPost(frank, posted.key, minutesAgo(20));
    await sql`update public.queue_items set external_id = ${first.id}, external_url = ${first.url} where id = ${posted.id}`;
    await publishedAs(frank, posted, first.id, minutesAgo(20));
    const extra = commitPost(frank, posted.key, minutesAgo(8));
    // Never recorded, and on the platform twice: the earliest is the item's, the other a duplicate.
    const review = await item(frank, "needs_review");
    const reviewFirst = commitPost(frank, review.key, minutesAgo(6));
    const reviewExtra = commitPost(frank, review.key, minutesAgo(4));
    // Marked posted by a person with only the link of Pacer's post; an earlier extra post: the one at
    // the recorded link is the item's, the other the duplicate.
    const linkOnly = await item(frank, "posted", { postedAt: minutesAgo(30) });
    const linkExtra = commitPost(frank, linkOnly.key, minutesAgo(35));
    const linkPost = commitPost(frank, linkOnly.key, minutesAgo(30));
    await sql`update public.queue_items set external_url = ${linkPost.url} where id = ${linkOnly.id}`;
    await sql`insert into public.posting_history (queue_item_id, workspace_id, account_id, platform, action, kind, attempt,
                                                  started_at, finished_at, outcome, external_id)
              values (${linkOnly.id}, ${frank.workspaceId}, ${frank.accountId}, 'sandbox', 'post', 'review', 1, now(), now(), 'posted', null)`;
    // One post per item is no duplicate.
    const single = await item(frank, "posted", { postedAt: minutesAgo(15) });
    const singlePost = commitPost(frank, single.key, minutesAgo(15));
    await sql`update public.queue_items set external_id = ${singlePost.id} where id = ${single.id}`;
    await publishedAs(frank, single, singlePost.id, minutesAgo(15));
    expect(await countedDuplicates(frank)).toEqual([]);

    const report = await run(frank);
    expect(report.failed).toEqual([]);
    // The figure GET /api/ops/metrics reports and the duplicate_posts alert fires on.
    expect(await countedDuplicates(frank)).toEqual([posted.id, review.id, linkOnly.id].sort((a, b) => a - b));
    expect(ids(report.recorded)).toEqual([review.id]);
    expect(report.duplicates.map((d) => [d.queueItemId, d.externalId])).toEqual(
      [[posted.id, extra.id], [review.id, reviewExtra.id], [linkOnly.id, linkExtra.id]].sort((a, b) => Number(a[0]) - Number(b[0])),
    );
    expect(report.flagged).toEqual([]);
    const [r] = await sql`select status, external_id from public.queue_items where id = ${review.id}`;
    expect(r).toEqual({ status: "posted", external_id: reviewFirst.id });
    const extraHistory = await sql`select kind, outcome, external_id from public.posting_history
                                   where queue_item_id = ${posted.id} and kind = 'reconcile'`;
    expect(extraHistory).toEqual([{ kind: "reconcile", outcome: "found", external_id: extra.id }]);
    const open = await sql`select queue_item_id, external_id, external_url, resolved_at from public.duplicate_posts
                           where workspace_id = ${frank.workspaceId} order by queue_item_id`;
    expect(open).toEqual(
      [
        { queue_item_id: String(posted.id), external_id: extra.id, external_url: extra.url, resolved_at: null },
        { queue_item_id: String(review.id), external_id: reviewExtra.id, external_url: reviewExtra.url, resolved_at: null },
        { queue_item_id: String(linkOnly.id), external_id: linkExtra.id, external_url: linkExtra.url, resolved_at: null },
      ].sort((a, b) => Number(a.queue_item_id) - Number(b.queue_item_id)),
    );

    // A second run reads the same posts and records nothing new.
    const before = await stateOf(frank);
    const second = await run(frank);
    expect([second.recorded, second.flagged, second.reappeared, second.duplicates, second.failed]).toEqual([[], [], [], [], []]);
    expect(await stateOf(frank)).toEqual(before);
  }, 60_000);

  it("holds a record a person marked posted with only a link against the platform's links, and keeps an acknowledgement", async () => {
    const gina = await tenant("rc-gina");
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    // Posted by hand (no marker), marked posted from the review queue with its link only.
    const byHand = commitPost(gina, null, tenMinutesAgo);
    const linked = await item(gina, "posted", { externalUrl: byHand.url, postedAt: tenMinutesAgo });
    // The same, but the post was deleted since: that one is missing.
    const gone = commitPost(gina, null, tenMinutesAgo);
    const goneItem = await item(gina, "posted", { externalUrl: gone.url, postedAt: tenMinutesAgo });
    expect(sandbox.network.deletePost(gone.id)).not.toBeNull();

    const first = await run(gina);
    expect(first.failed).toEqual([]);
    expect(ids(first.flagged)).toEqual([goneItem.id]);

    // A person acknowledges the missing post: later runs neither reopen it nor flag anything else.
    expect(await acknowledgeMissing(gina, [goneItem.id])).toBe(1);
    const before = await stateOf(gina);
    for (let i = 0; i < 2; i++) {
      const again = await run(gina);
      expect([again.recorded, again.flagged, again.reappeared, again.duplicates, again.failed]).toEqual([[], [], [], [], []]);
    }
    expect(await stateOf(gina)).toEqual(before);
    const flags = await sql`select queue_item_id, resolution from public.missing_posts where workspace_id = ${gina.workspaceId}`;
    expect(flags).toEqual([{ queue_item_id: String(goneItem.id), resolution: "acknowledged" }]);
    expect(linked.id).not.toBe(goneItem.id);
  }, 60_000);

  it("closes a flag when the post is back, and reports an account it cannot read without changing anything", async () => {
    const carol = await tenant("rc-carol");
    const post = await plant(carol, null);
    const flagged = await item(carol, "posted", { externalId: post.id, postedAt: new Date(Date.now() - 10 * 60_000) });
    const removed = sandbox.network.deletePost(post.id)!;
    expect(ids((await run(carol)).flagged)).toEqual([flagged.id]);

    // The platform restores it (a moderation appeal): the flag closes as reappeared.
    removed.deleted = false;
    sandbox.network.accounts.get(carol.handle)!.posts.push(removed);
    expect(ids((await run(carol)).reappeared)).toEqual([flagged.id]);
    const [m] = await sql`select resolution from public.missing_posts where queue_item_id = ${flagged.id}`;
    expect(m.resolution).toBe("reappeared");

    // Reads refused: reported, retried by a later run, nothing flagged meanwhile.
    sandbox.network.setFaults(carol.handle, { lookup_error: 1 });
    try {
      sandbox.network.deletePost(post.id);
      const before = await stateOf(carol);
      const report = await run(carol);
      expect(report.failed.map((f) => f.accountId)).toEqual([carol.accountId]);
      expect(report.failed[0].message).toMatch(/503/);
      expect(report.flagged).toEqual([]);
      expect(await stateOf(carol)).toEqual(before);
    } finally {
      sandbox.network.clearFaults(carol.handle);
    }
  }, 60_000);

  it("reads only accounts Pacer publishes for, and each once per run", async () => {
    const dave = await tenant("rc-dave");
    await sql`update public.social_accounts set state = 'paused' where id = ${dave.accountId}`;
    expect((await run(dave)).accounts).toBe(0);
    await sql`update public.social_accounts set state = 'active' where id = ${dave.accountId}`;
    expect((await run(dave)).accounts).toBe(1);
  }, 30_000);

  it("is the worker's job: signed-in users can call neither the claim nor the record function", async () => {
    const erin = await tenant("rc-erin");
    for (const call of [
      `select * from private.claim_reconciliation(10, 60, 0, now(), '${erin.workspaceId}')`,
      `select * from private.record_reconciliation('[]'::jsonb)`,
    ]) {
      const err = await asUser(sql, erin.userId, (tx) => errorOf(tx, (sp) => sp.unsafe(call)));
      expect(err?.code).toBe("42501");
    }
  });
});
