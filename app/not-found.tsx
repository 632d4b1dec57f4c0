// The page for an address Pacer does not have (and for notFound() outside the dashboard): says so, and
// offers the ways back.
import type { Metadata } from "next";
import Link from "next/link";
import { Button } from "@/components/ui/button";

export const metadata: Metadata = { title: "Page not found" };

export default function NotFound() {
  return (
    <main className="flex min-h-svh flex-col items-center justify-center gap-4 bg-muted/40 px-4 py-12 text-center">
      <p className="text-sm font-medium text-muted-foreground">404</p>
      <h1 className="text-2xl font-semibold tracking-tight">This page does not exist</h1>
      <p className="max-w-md text-muted-foreground">
        The address may be mistyped, or the page was moved or removed. Nothing you did was lost.
      </p>
      <div className="flex flex-wrap justify-center gap-2">
        <Button asChild>
          <Link href="/dashboard">Go to the dashboard</Link>
        </Button>
        <Button asChild variant="outline">
          <Link href="/">Pacer&apos;s home page</Link>
        </Button>
      </div>
    </main>
  );
}
