// The getting-started checklist: connect an account → compose a post → publish it. Each step is
// ticked from the workspace's own data (not from clicks), with a link to do it; once all three are
// done it folds into one line that can be opened again.
import Link from "next/link";
import { CheckCircle2, Circle } from "lucide-react";
import type { GettingStarted as Steps } from "@/lib/home";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { cn } from "@/components/ui/cn";

interface Step {
  done: boolean;
  title: string;
  detail: string;
  href: string;
  action: string;
}

function stepsOf(s: Steps): Step[] {
  return [
    {
      done: s.accountConnected,
      title: "Connect an account",
      detail: "A sandbox account works at once; Mastodon, Bluesky and Upload-Post connect from the same page.",
      href: "/dashboard/accounts",
      action: "Add an account",
    },
    {
      done: s.postComposed,
      title: "Compose a post",
      detail: "Write it once, pick the accounts, and schedule it or send it now.",
      href: "/dashboard/compose",
      action: "Compose a post",
    },
    {
      done: s.postPublished,
      title: "Publish it",
      detail: "The scheduler sends posts when they are due; Process now on the queue page sends due posts at once.",
      href: "/dashboard/queue",
      action: "Open the queue",
    },
  ];
}

function StepList({ steps, canAct }: { steps: Step[]; canAct: boolean }) {
  return (
    <ol className="grid gap-4" aria-label="Getting started steps">
      {steps.map((step) => (
        <li key={step.title} className="flex min-w-0 gap-3" data-testid="getting-started-step" data-done={step.done}>
          {step.done ? (
            <CheckCircle2 aria-hidden className="mt-0.5 size-5 shrink-0 text-primary" />
          ) : (
            <Circle aria-hidden className="mt-0.5 size-5 shrink-0 text-muted-foreground" />
          )}
          <div className="grid min-w-0 gap-1">
            <p className={cn("font-medium", step.done && "text-muted-foreground line-through")}>
              {step.title}
              <span className="sr-only">{step.done ? " (done)" : " (to do)"}</span>
            </p>
            {!step.done && <p className="text-sm text-muted-foreground">{step.detail}</p>}
            {!step.done && canAct && (
              <Link href={step.href} className="text-sm font-medium text-primary underline underline-offset-4">
                {step.action}
              </Link>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}

export function GettingStarted({ steps: data, canAct }: { steps: Steps; canAct: boolean }) {
  const steps = stepsOf(data);
  const done = steps.filter((s) => s.done).length;
  if (done === steps.length) {
    // Done: one line, out of the way, still there to look back at.
    return (
      <details className="rounded-xl border bg-card px-6 py-4 text-sm" data-testid="getting-started-done">
        <summary className="cursor-pointer font-medium">Getting started: all {steps.length} steps done</summary>
        <div className="pt-4">
          <StepList steps={steps} canAct={canAct} />
        </div>
      </details>
    );
  }
  return (
    <Card data-testid="getting-started">
      <CardHeader>
        <CardTitle>
          <h2>Getting started</h2>
        </CardTitle>
        <CardDescription>
          {done} of {steps.length} steps done.
          {!canAct && " Your role in this workspace is read-only: its editors, admins and owners take these steps."}
        </CardDescription>
      </CardHeader>
      <CardContent>
        <StepList steps={steps} canAct={canAct} />
      </CardContent>
    </Card>
  );
}
