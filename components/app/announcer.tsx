"use client";
// One place that tells the user an action happened: a message in a polite live region (screen readers
// hear it) shown as a toast at the bottom of the screen, optionally with one action such as Undo.
// Pages call useAnnounce()("Cancelled 3 posts", { action: { label: "Undo", run } }) after a change
// succeeds; errors stay beside the control that caused them.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { X } from "lucide-react";
import { Button } from "@/components/ui/button";

export interface AnnounceOptions {
  /** A follow-up the user may take (Undo): the toast stays up longer while one is offered. */
  action?: { label: string; run: () => void | Promise<void> };
}
type Announce = (message: string, options?: AnnounceOptions) => void;

const AnnounceContext = createContext<Announce>(() => {});

export function useAnnounce(): Announce {
  return useContext(AnnounceContext);
}

interface Toast {
  id: number;
  message: string;
  action?: AnnounceOptions["action"];
}

export function AnnouncerProvider({ children }: { children: ReactNode }) {
  const [toast, setToast] = useState<Toast | null>(null);
  const next = useRef(0);
  const announce = useCallback<Announce>((message, options) => {
    next.current += 1;
    setToast({ id: next.current, message, action: options?.action });
  }, []);

  useEffect(() => {
    if (!toast) return;
    // Long enough to read and reach the action by keyboard; then it goes away by itself.
    const timer = setTimeout(() => setToast(null), toast.action ? 10_000 : 5_000);
    return () => clearTimeout(timer);
  }, [toast]);

  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      {/* The live region is always in the page, so a message placed in it is announced. */}
      <div
        role="status"
        aria-live="polite"
        className="pointer-events-none fixed inset-x-0 bottom-4 z-50 flex justify-center px-4"
        data-testid="announcer"
      >
        {toast && (
          <div
            key={toast.id}
            className="pointer-events-auto flex max-w-md items-center gap-3 rounded-lg border bg-background px-4 py-3 text-sm shadow-lg"
          >
            <span>{toast.message}</span>
            {toast.action && (
              <Button
                type="button"
                size="sm"
                variant="outline"
                onClick={async () => {
                  const action = toast.action!;
                  setToast(null);
                  await action.run();
                }}
              >
                {toast.action.label}
              </Button>
            )}
            <Button type="button" size="icon" variant="ghost" className="size-7" aria-label="Dismiss" onClick={() => setToast(null)}>
              <X aria-hidden />
            </Button>
          </div>
        )}
      </div>
    </AnnounceContext.Provider>
  );
}
