"use client";
// One card per platform among the chosen accounts: the post as it will be sent there, and its length
// counted that platform's way (lib/posts/length.ts measureText) against the platform's limit: the
// whole thread, part by part, and Mastodon's content warning, which counts toward each status there.
import { postsThreads } from "@/lib/connectors/capabilities";
import { measureText, textProblem, type MeasureOptions, type TextRule } from "@/lib/posts/length";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { cn } from "@/components/ui/cn";

interface Props {
  rules: TextRule[];
  /** Accounts chosen per platform. */
  counts: Map<string, number>;
  text: string;
  firstComment: string;
  /** The thread's parts after the post itself. */
  thread: string[];
  /** Mastodon's content warning, as sent (undefined when there is none). */
  contentWarning?: string;
  mediaUrls: string[];
}

export function PlatformPreviews({ rules, counts, text, firstComment, thread, contentWarning, mediaUrls }: Props) {
  if (rules.length === 0) {
    return <p className="text-sm text-muted-foreground">Choose accounts to see the post as each platform will get it, counted its way.</p>;
  }
  return (
    <div className="grid gap-3 md:grid-cols-2">
      {rules.map((rule) => {
        const n = counts.get(rule.platform) ?? 0;
        const opts: MeasureOptions = rule.platform === "mastodon" ? { contentWarning } : {};
        const threads = postsThreads(rule.platform);
        return (
          <Card key={rule.platform} className="gap-3 py-4" data-testid={`preview-${rule.platform}`} aria-label={`${rule.name} preview`} role="region">
            <CardHeader className="px-4">
              <CardTitle>
                <h3>{rule.name}</h3>
              </CardTitle>
              <CardDescription>
                {n} {n === 1 ? "account" : "accounts"}
              </CardDescription>
            </CardHeader>
            <CardContent className="grid gap-2 px-4">
              {opts.contentWarning && (
                <p className="text-sm font-medium" data-testid={`preview-${rule.platform}-cw`}>
                  Content warning: {opts.contentWarning}
                </p>
              )}
              <p className="max-h-48 overflow-auto text-sm wrap-anywhere whitespace-pre-wrap">{text || <span className="text-muted-foreground">(no text yet)</span>}</p>
              <Counter rule={rule} text={text} what="The text" label="Text" testId={`count-${rule.platform}-text`} opts={opts} />
              {mediaUrls.length > 0 && (
                <p className="text-sm text-muted-foreground">
                  With {mediaUrls.length} media {mediaUrls.length === 1 ? "file" : "files"}
                </p>
              )}
              {firstComment.trim() && (
                <div className="grid gap-1 border-t pt-2">
                  <p className="text-xs font-medium text-muted-foreground">First comment</p>
                  <p className="max-h-24 overflow-auto text-sm wrap-anywhere whitespace-pre-wrap">{firstComment}</p>
                  <Counter rule={rule} text={firstComment} what="The first comment" label="First comment" testId={`count-${rule.platform}-firstComment`} opts={opts} />
                </div>
              )}
              {thread.length > 0 &&
                (threads ? (
                  thread.map((part, i) => (
                    <div key={i} className="grid gap-1 border-t pt-2" data-testid={`preview-${rule.platform}-thread-${i}`}>
                      <p className="text-xs font-medium text-muted-foreground">
                        Part {i + 2} of {thread.length + 1}, a reply to the one before
                      </p>
                      <p className="max-h-24 overflow-auto text-sm wrap-anywhere whitespace-pre-wrap">{part || <span className="text-muted-foreground">(no text yet)</span>}</p>
                      <Counter rule={rule} text={part} what={`Part ${i + 2} of the thread`} label={`Part ${i + 2}`} testId={`count-${rule.platform}-thread-${i}`} opts={opts} />
                    </div>
                  ))
                ) : (
                  <p className="border-t pt-2 text-sm text-destructive">{rule.name} cannot take the thread: see the thread below.</p>
                ))}
            </CardContent>
          </Card>
        );
      })}
    </div>
  );
}

interface CounterProps {
  rule: TextRule;
  text: string;
  what: string;
  label: string;
  testId: string;
  opts: MeasureOptions;
}

function Counter({ rule, text, what, label, testId, opts }: CounterProps) {
  const m = measureText(rule, text, opts);
  // Blank parts are refused for being blank (on the field), not for their length.
  const problem = text ? textProblem(rule, text, what, opts) : null;
  const warn = m.over && m.soft;
  return (
    <div className="grid gap-1 text-sm">
      <p
        className={cn("tabular-nums", problem ? "font-medium text-destructive" : warn ? "text-amber-700 dark:text-amber-400" : "text-muted-foreground")}
        data-testid={testId}
      >
        {label}: {m.length.toLocaleString("en")}
        {m.limit !== null ? ` / ${m.limit.toLocaleString("en")}` : ""} {rule.unit === "graphemes" ? "characters as you see them" : "characters"}
        {m.limit === null && " (no known limit)"}
        {opts.contentWarning ? " with the content warning" : ""}
      </p>
      {problem ? (
        <p className="text-destructive">{problem}</p>
      ) : warn || (m.note && m.length > 0) ? (
        <p className={warn ? "text-amber-700 dark:text-amber-400" : "text-muted-foreground"}>{m.note}</p>
      ) : null}
    </div>
  );
}
