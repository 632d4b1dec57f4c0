// Landing page: what Pacer is, and the way in (sign in / sign up, or the dashboard when signed in).
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { currentUser } from "@/lib/auth";

export default async function LandingPage() {
  const user = await currentUser();
  return (
    <main className="mx-auto flex min-h-svh max-w-2xl flex-col justify-center gap-8 px-6 py-16">
      <div className="space-y-4">
        <p className="text-sm font-semibold tracking-wide text-muted-foreground uppercase">Pacer</p>
        <h1 className="text-4xl font-semibold tracking-tight">Publish everywhere, exactly once, on time.</h1>
        <p className="text-lg text-muted-foreground">
          Pacer lets a creator, brand or agency connect many social accounts and queue thousands of posts at once.
          It publishes each post exactly once, on schedule and inside every platform&apos;s limits, and pauses any
          account in trouble before the platform does.
        </p>
      </div>
      <div className="flex flex-wrap gap-3">
        {user ? (
          <Button asChild size="lg">
            <Link href="/dashboard">Go to your dashboard</Link>
          </Button>
        ) : (
          <>
            <Button asChild size="lg">
              <Link href="/sign-up">Create an account</Link>
            </Button>
            <Button asChild size="lg" variant="outline">
              <Link href="/sign-in">Sign in</Link>
            </Button>
          </>
        )}
      </div>
    </main>
  );
}
