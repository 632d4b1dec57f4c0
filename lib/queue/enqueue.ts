// Putting posts into the queue, set-based: every row's accounts checked in one query, then all posts
// and all queue items written by one statement, whatever the number of rows.
import type postgres from "postgres";
import type { Tx } from "@/lib/db";
import { PacerError, fromDatabaseError, type FieldIssue } from "@/lib/api/errors";
import { platformEnabled, postsThreads } from "@/lib/connectors/registry";
import type { PlatformOptions } from "@/lib/connectors/types";
import { textProblem, type TextRule } from "@/lib/posts/length";

/** One post to queue for one or more accounts; `path` names where it came from in the request. */
export interface PostToQueue {
  text: string;
  mediaUrls: string[];
  firstComment: string | null;
  /** Further posts of a thread, each a reply to the one before; [] for a single post. */
  thread: string[];
  platformOptions: PlatformOptions;
  destination: string | null;
  accountIds: string[];
  priority: number;
  /** ISO time; null, or a time already past, means now (the callers apply the past-schedule rule first). */
  scheduledFor: string | null;
}

/** An account id as the request named it, for checking and for pointing at it in an error. */
export interface AccountReference {
  path: string;
  id: string;
}

/**
 * Issues for references to accounts this workspace cannot post to: ids that are not its accounts
 * (including other tenants' accounts, which RLS hides), and accounts on platforms Pacer cannot
 * publish to. One query, whatever the number of references.
 */
export async function checkAccounts(tx: Tx, workspaceId: string, refs: AccountReference[]): Promise<FieldIssue[]> {
  if (refs.length === 0) return [];
  const ids = [...new Set(refs.map((r) => r.id))];
  const rows = await tx`
    select a.id, a.platform, a.handle, a.archived_at, p.name as platform_name, p.enabled
    from public.social_accounts a join public.platforms p on p.id = a.platform
    where a.workspace_id = ${workspaceId} and a.id = any (${ids}::uuid[])`;
  const known = new Map(rows.map((r) => [r.id as string, r]));
  const issues: FieldIssue[] = [];
  for (const ref of refs) {
    const account = known.get(ref.id);
    if (!account) {
      issues.push({ path: ref.path, message: "There is no account with this id in this workspace." });
    } else if (account.archived_at) {
      // The database refuses it too (refuse_items_of_removed_accounts); this names the field.
      issues.push({ path: ref.path, message: `@${account.handle} was removed from this workspace; queue the post for another account.` });
    } else if (!account.enabled || !platformEnabled(account.platform, process.env)) {
      // Offered by this installation: PACER_CONNECTORS decides (platforms.enabled only says Pacer has a connector).
      issues.push({ path: ref.path, message: `Pacer cannot publish to ${account.platform_name} yet.` });
    }
  }
  return issues;
}

/** A post's thread and first comment, with the accounts it goes to; `prefix` is the row's path in bulk ("items.3."). */
export interface ThreadToCheck {
  prefix: string;
  threadParts: number;
  hasFirstComment: boolean;
  accountIds: string[];
}

/**
 * Issues for threads Pacer cannot publish: a thread with a first comment (the comment would be a
 * second reply to the post, beside the thread: put it in the thread), and a thread to an account
 * whose connector posts no threads (`postsThreads`, lib/connectors/registry.ts), one issue per
 * platform at `thread`. One query for every post's accounts.
 */
export async function checkThreads(tx: Tx, workspaceId: string, posts: ThreadToCheck[]): Promise<FieldIssue[]> {
  const threaded = posts.filter((p) => p.threadParts > 0);
  const issues: FieldIssue[] = [];
  for (const p of threaded) {
    if (p.hasFirstComment) {
      issues.push({ path: `${p.prefix}thread`, message: "A post has a thread or a first comment, not both: put the comment in the thread as its first part, or leave the thread out." });
    }
  }
  const ids = [...new Set(threaded.flatMap((p) => p.accountIds))];
  if (ids.length === 0) return issues;
  const rows = await tx`
    select a.id, a.platform, p.name
    from public.social_accounts a join public.platforms p on p.id = a.platform
    where a.workspace_id = ${workspaceId} and a.id = any (${ids}::uuid[])`;
  const platformOf = new Map(rows.map((r) => [r.id as string, { platform: r.platform as string, name: r.name as string }]));
  for (const p of threaded) {
    const refused = new Map<string, string>();
    for (const id of p.accountIds) {
      const account = platformOf.get(id);
      if (account && !postsThreads(account.platform)) refused.set(account.platform, account.name);
    }
    for (const name of refused.values()) {
      issues.push({
        path: `${p.prefix}thread`,
        message: `Pacer cannot post a thread to ${name}: only to Mastodon and Bluesky accounts. Queue the ${name} accounts as a separate post without the thread, or join the parts into one text.`,
      });
    }
  }
  return issues;
}

/** A post's texts and the accounts it goes to, with the paths that name them in the request. */
export interface TextsToCheck {
  texts: Array<{ path: string; text: string | null; what: string }>;
  accountIds: string[];
  /** Mastodon's content warning: counted with each text for Mastodon accounts (it is part of every status's length). */
  contentWarning?: string;
}

/**
 * Issues for texts longer than a platform they go to allows, counted the platform's way
 * (lib/posts/length.ts, as the composer shows them): one issue per text and platform, however many
 * of the platform's accounts the post names, so nothing is queued only to fail at publish.
 */
export async function checkTextLengths(tx: Tx, workspaceId: string, posts: TextsToCheck[]): Promise<FieldIssue[]> {
  const ids = [...new Set(posts.flatMap((p) => p.accountIds))];
  if (ids.length === 0) return [];
  const rows = await tx`
    select a.id, p.id as platform, p.name, p.text_limit, p.text_unit
    from public.social_accounts a join public.platforms p on p.id = a.platform
    where a.workspace_id = ${workspaceId} and a.id = any (${ids}::uuid[]) and p.text_limit is not null`;
  const ruleOf = new Map(rows.map((r) => [r.id as string, { platform: r.platform, name: r.name, limit: r.text_limit, unit: r.text_unit } as TextRule]));
  const issues: FieldIssue[] = [];
  for (const post of posts) {
    const rules = new Map<string, TextRule>();
    for (const id of post.accountIds) {
      const rule = ruleOf.get(id);
      if (rule) rules.set(rule.platform, rule);
    }
    for (const { path, text, what } of post.texts) {
      if (!text) continue;
      for (const rule of rules.values()) {
        const problem = textProblem(rule, text, what, { contentWarning: post.contentWarning });
        if (problem) issues.push({ path, message: problem });
      }
    }
  }
  return issues;
}

/**
 * Write the posts and their queue items (one per post × account) in one statement, as the user, so
 * row level security checks every row. Returns the new posts' ids in the order given.
 */
export async function insertPosts(tx: Tx, workspaceId: string, posts: PostToQueue[]): Promise<{ postIds: string[]; items: number }> {
  const rows = posts.map((p, ord) => ({
    ord,
    text: p.text,
    media_urls: p.mediaUrls,
    first_comment: p.firstComment,
    thread: p.thread,
    platform_options: p.platformOptions,
    destination: p.destination,
    account_ids: p.accountIds,
    priority: p.priority,
    scheduled_for: p.scheduledFor,
  }));
  try {
    // Each row's post id is made first, so its queue items can reference it in the same statement.
    const result = await tx`
      with input as materialized (
        select gen_random_uuid() as post_id, r.*
        from jsonb_to_recordset(${tx.json(rows as unknown as postgres.JSONValue)}) as r(
          ord integer, text text, media_urls text[], first_comment text, thread text[], platform_options jsonb,
          destination text, account_ids uuid[], priority smallint, scheduled_for timestamptz)
      ),
      new_posts as (
        insert into public.posts (id, workspace_id, text, media_urls, first_comment, thread, platform_options, destination)
        select i.post_id, ${workspaceId}, i.text, i.media_urls, i.first_comment, i.thread, i.platform_options, i.destination
        from input i order by i.ord
        returning 1
      ),
      -- No time, or one already past (clock skew, or ifPast: "publish_now"), is now: greatest() skips a null.
      new_items as (
        insert into public.queue_items (workspace_id, post_id, account_id, priority, scheduled_for, run_at)
        select ${workspaceId}, i.post_id, a.account_id, i.priority, greatest(i.scheduled_for, now()), greatest(i.scheduled_for, now())
        from input i cross join lateral unnest(i.account_ids) with ordinality as a(account_id, n)
        order by i.ord, a.n
        returning 1
      )
      select (select array_agg(post_id order by ord) from input) as post_ids,
             (select count(*) from new_posts)::integer as posts,
             (select count(*) from new_items)::integer as items`;
    const postIds = (result[0].post_ids ?? []) as string[];
    if (result[0].posts !== posts.length) throw new Error(`wrote ${result[0].posts} of ${posts.length} posts`);
    return { postIds, items: result[0].items as number };
  } catch (error) {
    // An account removed between the check and the insert.
    if ((error as { code?: string }).code === "23503") {
      throw new PacerError(409, "account_removed", "An account was removed while these posts were being queued; nothing was queued. Send the request again.");
    }
    return fromDatabaseError(error);
  }
}
