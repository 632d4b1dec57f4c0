// Root layout: the document shell and global styles every page shares.
import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Pacer", template: "%s · Pacer" },
  description: "Publish to many social accounts: every post exactly once, on time, inside every platform's limits.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Every page renders per request: its scripts need that request's CSP nonce (proxy.ts), which a
  // page prerendered at build time could not carry.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-svh font-sans">{children}</body>
    </html>
  );
}
