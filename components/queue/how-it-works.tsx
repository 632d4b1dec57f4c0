// What the queue does with a post, in the subscriber's words: order, limits, retries, priorities, exactly once.
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";

const topics = [
  {
    title: "How the queue works",
    body: (
      <p>
        Each post becomes one queue item per account. Every minute (or when you press Process now) Pacer takes the items
        that are due, highest priority first and then oldest first, and publishes them through the platform&apos;s API.
      </p>
    ),
  },
  {
    title: "Rate limiting",
    body: (
      <p>
        Every platform has hourly and daily caps and a minimum gap between posts, per account; a workspace can make them
        stricter. When an account has used its allowance, its items wait as <em>Rate limited</em> until the window
        allows the next one. A platform&apos;s own &ldquo;slow down&rdquo; (and its Retry-After) is honoured the same
        way. Usage is counted from the posting history, so a restart never resets a window.
      </p>
    ),
  },
  {
    title: "Retries",
    body: (
      <p>
        A temporary error is retried after 10, then 20, then 40 minutes (a little jitter spreads retries out); after
        that the item has <em>Failed</em>. A refusal that will not change by waiting &mdash; a restricted account,
        expired sign-in, rejected content &mdash; fails at once. Retry puts a failed item back in the queue once you
        have fixed the cause.
      </p>
    ),
  },
  {
    title: "Priorities",
    body: (
      <p>
        From 1 to 10, default 5. Among the items that are due, higher numbers go first; an item never goes before its
        scheduled time, whatever its priority.
      </p>
    ),
  },
  {
    title: "Exactly once",
    body: (
      <p>
        When Pacer cannot tell whether a post went out (a timeout, a dropped connection, a worker that stopped), the
        item is <em>Verifying</em>: Pacer asks the platform whether the post exists before anything is sent again, so a
        post is never published twice. If the platform cannot answer, the item <em>Needs review</em> instead of being
        retried blindly. Cancelling an item that is being published never tears it: the attempt in flight
        finishes, and the item ends cancelled unless that attempt published it.
      </p>
    ),
  },
];

export function HowItWorks() {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>How publishing works</h2>
        </CardTitle>
      </CardHeader>
      <CardContent>
        <div className="grid gap-6 text-sm text-muted-foreground sm:grid-cols-2">
          {topics.map(({ title, body }) => (
            <section key={title} className="grid content-start gap-1">
              <h3 className="font-medium text-foreground">{title}</h3>
              {body}
            </section>
          ))}
        </div>
      </CardContent>
    </Card>
  );
}
