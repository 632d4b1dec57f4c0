"use client";
// <When> for a time that may be missing (never used, no next attempt): the shared display, or a word.
import { When } from "./when";

export function WhenOrNone({ at, none = "—", relative }: { at: string | Date | null | undefined; none?: string; relative?: boolean }) {
  if (!at) return <span className="text-muted-foreground">{none}</span>;
  return <When at={at} relative={relative} />;
}
