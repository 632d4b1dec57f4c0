"use client";
// The workspace's drafts beside the composer, most recently changed first: open one to edit and queue
// it, or discard it. Drafts are shared by the workspace's editors.
import { useState } from "react";
import { FileText, Trash2 } from "lucide-react";
import type { Draft } from "@/lib/drafts/input";
import { failureMessage, sendJson } from "@/lib/api/client";
import { When } from "@/components/time/when";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { LoadState } from "@/components/ui/load-state";

interface Props {
  drafts: Draft[] | undefined;
  error: Error | null;
  openId: string | null;
  onOpen: (draft: Draft) => void;
  onDeleted: (id: string) => Promise<unknown>;
}

const preview = (d: Draft) => {
  const text = d.content.text?.trim() ?? "";
  return text ? (text.length > 80 ? `${text.slice(0, 80)}…` : text) : "(no text yet)";
};

export function DraftsList({ drafts, error, openId, onOpen, onDeleted }: Props) {
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  async function discard(d: Draft) {
    setFailure(null);
    setBusy(d.id);
    try {
      await sendJson("DELETE", `/api/drafts/${d.id}`);
      await onDeleted(d.id);
    } catch (e) {
      setFailure(failureMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <Card className="self-start">
      <CardHeader>
        <CardTitle>
          <h2>Drafts</h2>
        </CardTitle>
        <CardDescription>Shared with your workspace&apos;s editors.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-2">
        {failure && (
          <p role="alert" className="text-sm text-destructive">
            {failure}
          </p>
        )}
        {!drafts ? (
          <LoadState what="drafts" error={error} />
        ) : drafts.length === 0 ? (
          <p className="text-sm text-muted-foreground">No drafts. &quot;Save as draft&quot; keeps a post here until you queue it.</p>
        ) : (
          <ul className="grid gap-2" aria-label="Drafts">
            {drafts.map((d) => (
              <li key={d.id} className="grid gap-1 rounded-md border p-2" aria-current={d.id === openId ? "true" : undefined} data-testid="draft">
                <p className="text-sm wrap-anywhere">{preview(d)}</p>
                <p className="text-xs text-muted-foreground">
                  {(d.content.accountIds?.length ?? 0)} accounts · changed <When at={d.updatedAt} />
                </p>
                <div className="flex gap-1">
                  <Button type="button" size="sm" variant="outline" onClick={() => onOpen(d)} disabled={d.id === openId}>
                    <FileText aria-hidden />
                    {d.id === openId ? "Open" : "Open draft"}
                    <span className="sr-only">: {preview(d)}</span>
                  </Button>
                  <Button type="button" size="sm" variant="ghost" onClick={() => discard(d)} disabled={busy === d.id}>
                    <Trash2 aria-hidden />
                    Discard
                    <span className="sr-only"> draft: {preview(d)}</span>
                  </Button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
