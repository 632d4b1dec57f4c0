// Layout of the signed-out pages (sign in, sign up): the form centred under Pacer's name.
import Link from "next/link";
import type { ReactNode } from "react";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="flex min-h-svh flex-col items-center justify-center gap-6 bg-muted/40 px-4 py-12">
      <Link href="/" className="text-lg font-semibold tracking-tight">
        Pacer
      </Link>
      {children}
    </main>
  );
}
