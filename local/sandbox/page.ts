// The sandbox's one page: every account with its counts and latest posts, or one account's whole
// feed (?handle=), newest first. Self-contained HTML so it needs no build step or assets.
import type { SandboxAccount, SandboxNetwork, SandboxPost } from "./network.ts";

const PREVIEW_POSTS = 5;
const FEED_POSTS = 200;

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function renderPost(post: SandboxPost): string {
  const extras = [
    post.destination ? `→ ${escape(post.destination)}` : "",
    post.media_urls.length ? `${post.media_urls.length} media` : "",
    post.client_ref ? `ref ${escape(post.client_ref)}` : "",
    post.response_fault ? `<span class="fault">response lost: ${post.response_fault}</span>` : "",
  ].filter(Boolean);
  return `<li id="post-${post.id}"><p>${escape(post.text)}</p>${post.first_comment ? `<p class="comment">↳ ${escape(post.first_comment)}</p>` : ""}
<small>#${post.id} · ${post.created_at}${extras.length ? " · " + extras.join(" · ") : ""}</small></li>`;
}

function renderAccount(account: SandboxAccount, limit: number): string {
  const { reach, engagement, followers } = account.metrics;
  const flags = [
    account.restricted ? "restricted" : "",
    account.tokenExpired ? "token expired" : "",
    account.rejectedDestinations.length ? `rejected by ${account.rejectedDestinations.map(escape).join(", ")}` : "",
  ].filter(Boolean);
  const latest = account.posts.slice(-limit).reverse();
  return `<section><h2><a href="/?handle=${encodeURIComponent(account.handle)}">@${escape(account.handle)}</a>
<span>${account.posts.length} posts · reach ${reach} · engagement ${engagement} · ${followers} followers${flags.length ? ` · <b class="fault">${flags.join(", ")}</b>` : ""}</span></h2>
<ol>${latest.map(renderPost).join("") || "<li><small>No posts yet.</small></li>"}</ol></section>`;
}

export function renderFeedPage(network: SandboxNetwork, handle: string | null): string {
  const stats = network.stats();
  const one = handle ? network.accounts.get(handle) : undefined;
  const body = handle
    ? one
      ? `<p><a href="/">← all accounts</a></p>${renderAccount(one, FEED_POSTS)}`
      : `<p>No account @${escape(handle)}. <a href="/">All accounts</a></p>`
    : [...network.accounts.values()].map((a) => renderAccount(a, PREVIEW_POSTS)).join("") || "<p>No accounts yet.</p>";
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pacer sandbox</title>
<meta http-equiv="refresh" content="5">
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1c1c1c}
h1{font-size:1.3rem}h2{font-size:1rem;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
h2 span{font-weight:normal;color:#666}section{border-top:1px solid #ddd;padding:.5rem 0}
ol{list-style:none;padding:0;margin:0}li{padding:.4rem 0;border-bottom:1px dashed #eee}li p{margin:0}
small{color:#777}.comment{color:#555}.fault{color:#b42318}a{color:#2451b3}
</style></head><body>
<h1>Pacer sandbox</h1>
<p>${stats.accounts} accounts · ${stats.accepted} posts accepted · ${stats.responsesLost} responses lost to faults · ${stats.duplicateClientRefs.length} duplicated client refs</p>
${body}
</body></html>`;
}
