// An auth problem in Pacer's words, with the link to the next step (lib/auth/messages).
import Link from "next/link";
import { CircleAlert } from "lucide-react";
import type { AuthProblem } from "@/lib/auth/messages";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

export function AuthProblemAlert({ title, problem, next }: { title: string; problem: AuthProblem; next?: string }) {
  // Carry ?next= along to sign-in, so the visitor still lands where they were going.
  const href =
    problem.next && next && problem.next.href === "/sign-in" ? `/sign-in?next=${encodeURIComponent(next)}` : problem.next?.href;
  return (
    <Alert variant="destructive" data-testid="auth-problem">
      <CircleAlert aria-hidden />
      <AlertTitle>{title}</AlertTitle>
      <AlertDescription>
        <p>
          {problem.text}
          {problem.next && href && (
            <>
              {" "}
              <Link href={href} className="font-medium underline underline-offset-4">
                {problem.next.label}
              </Link>
            </>
          )}
        </p>
      </AlertDescription>
    </Alert>
  );
}
