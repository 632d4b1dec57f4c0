// The demo workspace's content, so `npm run dev` opens on something to see: three sandbox accounts,
// posts that went out, a few scheduled for the coming days, and one the platform refused. Run once,
// by the local stack, into a database it created just now (like local/seed.sql; never on Supabase).
// Nothing is faked: the accounts are made on the sandbox and sealed as the add form seals them, and
// the due posts are published by the real engine against the sandbox, so the queue, the posting
// history and the sandbox's feeds agree as they do for any user's posts. (The engine publishes them
// now, at first start; their scheduled times are spread over the last days.)
import postgres from "postgres";
import { encryptCredentials } from "../lib/accounts/credentials.ts";
import { connectorFor } from "../lib/connectors/registry.ts";
import { processQueue } from "../lib/engine/process.ts";

export const DEMO_EMAIL = "demo@pacer.local";

/** The demo's accounts: handle (as wanted; taken ones get a suffix), display name. */
const ACCOUNTS = [
  { key: "news", handle: "pacer_news", name: "Pacer News" },
  { key: "studio", handle: "pacer_studio", name: "Pacer Studio" },
  { key: "tips", handle: "pacer_tips", name: "Pacer Tips" },
] as const;
type AccountKey = (typeof ACCOUNTS)[number]["key"];

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** Posts by offset from now (negative: already due, published at once), and the accounts they go to. */
const POSTS: Array<{ at: number; text: string; to: AccountKey[]; destination?: string }> = [
  { at: -3 * DAY, text: "Welcome to Pacer: one queue for every account you post to.", to: ["news", "studio", "tips"] },
  { at: -3 * DAY + 5 * HOUR, text: "Tip: schedule a week of posts on Monday and let the queue pace them.", to: ["tips"] },
  { at: -2 * DAY, text: "Behind the scenes: this week's studio session, in three photos.", to: ["studio"] },
  { at: -2 * DAY + 6 * HOUR, text: "Release notes: the calendar now moves posts by drag and drop.", to: ["news"] },
  { at: -DAY, text: "Tip: the review page lists every post Pacer could not settle on its own.", to: ["tips"] },
  { at: -DAY + 4 * HOUR, text: "Thanks for 1,000 followers! A thread on what we learned is coming.", to: ["news", "studio"] },
  // The sandbox refuses this destination for @pacer_studio (set below): a permanent failure, as a
  // community that bans an account would answer.
  { at: -3 * HOUR, text: "Our weekend playlist, shared with the community.", to: ["studio"], destination: "r/pacer_demo" },
  { at: 5 * HOUR, text: "Going live soon: questions and answers with the team.", to: ["news"] },
  { at: DAY + 2 * HOUR, text: "Tip: pause an account and its posts wait; nothing is lost.", to: ["tips"] },
  { at: 2 * DAY, text: "New in the studio: a first look at next month's series.", to: ["studio", "news"] },
  { at: 3 * DAY + 3 * HOUR, text: "Weekly roundup: the five posts you liked most.", to: ["news"] },
];

export interface DemoOptions {
  dbUrl: string;
  sandboxUrl: string;
  /** The stack's environment (the sandbox's address, allowed hosts, the credentials key). */
  env: Record<string, string>;
  log: (line: string) => void;
}

export interface DemoSummary {
  accounts: number;
  published: number;
  failed: number;
  scheduled: number;
  /** How long it took (it runs inside the start-up, which should stay quick). */
  ms: number;
}

/** A handle on the sandbox with its token; a kept sandbox.json may hold the wanted one already. */
async function sandboxHandle(sandboxUrl: string, wanted: string): Promise<{ handle: string; token: string }> {
  for (let i = 0; i < 5; i++) {
    const handle = i === 0 ? wanted : `${wanted}_${Math.random().toString(36).slice(2, 6)}`;
    const res = await fetch(`${sandboxUrl}/v1/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ handle }) });
    if (res.status === 201) return { handle, token: ((await res.json()) as { token: string }).token };
    if (res.status !== 409) throw new Error(`the sandbox refused @${handle}: HTTP ${res.status}`);
  }
  throw new Error(`no free sandbox handle like @${wanted}`);
}

export async function seedDemoWorkspace(opts: DemoOptions): Promise<DemoSummary> {
  // The engine decrypts credentials with the key from the environment, as the app and workers do.
  process.env.PACER_CREDENTIALS_KEY ??= opts.env.PACER_CREDENTIALS_KEY;
  const started = Date.now();
  const sql = postgres(opts.dbUrl, { prepare: false, max: 4, onnotice: () => {} });
  try {
    const [demo] = await sql`
      select m.workspace_id from auth.users u
      join public.workspace_members m on m.user_id = u.id and m.role = 'owner'
      where u.email = ${DEMO_EMAIL}`;
    if (!demo) throw new Error(`no workspace for ${DEMO_EMAIL} (local/seed.sql makes one)`);
    const workspaceId: string = demo.workspace_id;

    const ids = {} as Record<AccountKey, string>;
    for (const a of ACCOUNTS) {
      const { handle, token } = await sandboxHandle(opts.sandboxUrl, a.handle);
      const [row] = await sql`
        insert into public.social_accounts (workspace_id, platform, handle, display_name, credentials_encrypted)
        values (${workspaceId}, 'sandbox', ${handle}, ${a.name}, ${await encryptCredentials({ accessToken: token })})
        returning id`;
      ids[a.key] = row.id;
      if (a.key === "studio") {
        const refused = await fetch(`${opts.sandboxUrl}/v1/admin/accounts/${encodeURIComponent(handle)}/state`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ rejectedDestinations: ["r/pacer_demo"] }),
        });
        if (!refused.ok) throw new Error(`the sandbox did not take @${handle}'s refused destination: HTTP ${refused.status}`);
      }
    }

    // Posts and their queue items as the queue's insert writes them (lib/queue/enqueue.ts).
    const now = Date.now();
    for (const p of POSTS) {
      const at = new Date(now + p.at);
      const [post] = await sql`
        insert into public.posts (workspace_id, text, destination) values (${workspaceId}, ${p.text}, ${p.destination ?? null})
        returning id`;
      for (const key of p.to) {
        await sql`
          insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at)
          values (${workspaceId}, ${post.id}, ${ids[key]}, 5, ${at}, ${at})`;
      }
    }

    // The due ones go out through the engine, as Process now would send them.
    const run = await processQueue({
      sql,
      worker: "demo-seed",
      workspaceId,
      connectorFor: (platform) => connectorFor(platform, opts.env),
      budgetMs: 20_000,
      callTimeoutMs: 10_000,
      leaseSeconds: 60,
      log: opts.log,
    });
    const [counts] = await sql`
      select count(*) filter (where status = 'posted')::int as published,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status = 'pending')::int as scheduled
      from public.queue_items where workspace_id = ${workspaceId}`;
    opts.log(`demo: ${run.claimed} published or refused by the engine in ${run.ms} ms`);
    return { accounts: ACCOUNTS.length, published: counts.published, failed: counts.failed, scheduled: counts.scheduled, ms: Date.now() - started };
  } finally {
    await sql.end();
  }
}
