"use client";
// The import page: the plan and role it needs, the columns and template, a file read and checked in
// the browser (nothing is sent until the preview is confirmed), the import with a progress bar, its
// summary, and the workspace's latest imports.
import { useRef, useState, type ChangeEvent } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { CircleAlert, Download, Info, Upload } from "lucide-react";
import { accountsQuery } from "@/components/accounts/queries";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { sendJson } from "@/lib/api/client";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { importIdFor } from "@/lib/import/chunks";
import { rowFingerprint } from "@/lib/import/fingerprint";
import type { ImportCheckResult } from "@/lib/import/input";
import { badRowsCsv, readImportFile, type ImportPreview } from "@/lib/import/read";
import { accountDirectory } from "@/lib/import/rows";
import { useTimeZone } from "@/components/time/time-zone";
import { BadRowsTable } from "./bad-rows-table";
import { ColumnsCard } from "./columns-card";
import { downloadText } from "./download";
import { plural } from "./format";
import { When } from "@/components/time/when";
import { shortTime } from "@/lib/time/relative";
import { importOverviewQuery, useRefreshImports } from "./queries";
import { RecentImports } from "./recent-imports";
import { sendImport, type ImportProgress, type ImportSummary } from "./send";

type Step =
  | { name: "idle" }
  | { name: "reading"; checked: number; total: number }
  | { name: "previewed"; preview: ImportPreview; importId: string; earlier: ImportCheckResult | null }
  | { name: "importing"; preview: ImportPreview; importId: string; progress: ImportProgress }
  | { name: "done"; preview: ImportPreview; importId: string; summary: ImportSummary };

/** Lets the page paint between chunks of work. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Which of the file's good rows an earlier upload of it queued (the file fixed and uploaded again),
 * asked with each row's number and fingerprint; null when there is nothing to ask or Pacer could not
 * say (the import itself still skips them).
 */
async function checkEarlier(preview: ImportPreview, workspaceId: string, timeZone: string): Promise<ImportCheckResult | null> {
  if (preview.fileIssues.length || preview.good.length === 0) return null;
  const rows = await Promise.all(preview.good.map(async (g) => ({ rowNumber: g.row.rowNumber, fingerprint: await rowFingerprint(g.post) })));
  return sendJson<ImportCheckResult>("POST", "/api/queue/import/check", { workspaceId, fileName: preview.fileName, timeZone, rows }).catch(() => null);
}

export function ImportPage() {
  // Local times in the file are read in the user's zone (their setting, else the browser's).
  const { timeZone } = useTimeZone();
  const overview = useQuery(importOverviewQuery);
  const accounts = useQuery(accountsQuery);
  const refresh = useRefreshImports();
  const [step, setStep] = useState<Step>({ name: "idle" });
  const [readError, setReadError] = useState<string | null>(null);
  // Rows whose time has passed: bad rows (the default), or published at once when this is ticked.
  const [postPastNow, setPostPastNow] = useState(false);
  const lastFile = useRef<File | null>(null);

  const access = overview.data;
  const mayImport = access?.planIncludesImport === true && access.canImport;
  const firstAccount = accounts.data?.accounts[0];

  async function onFile(event: ChangeEvent<HTMLInputElement>) {
    const file = event.currentTarget.files?.[0];
    event.currentTarget.value = "";
    if (file) await check(file, postPastNow);
  }

  /** The past-rows choice changed: the file shown is checked again with it. */
  async function onPostPastNow(checked: boolean) {
    setPostPastNow(checked);
    if (lastFile.current && (step.name === "previewed" || step.name === "done")) await check(lastFile.current, checked);
  }

  async function check(file: File, pastNow: boolean) {
    if (!accounts.data || !access) return;
    lastFile.current = file;
    setReadError(null);
    setStep({ name: "reading", checked: 0, total: 0 });
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const preview = await readImportFile(bytes, {
        fileName: file.name,
        accounts: accountDirectory(accounts.data.accounts),
        timeZone,
        ifPast: pastNow ? "publish_now" : "refuse",
        pause: nextTask,
        onProgress: (checked, total) => setStep({ name: "reading", checked, total }),
      });
      const [importId, earlier] = await Promise.all([importIdFor(access.workspaceId, bytes), checkEarlier(preview, access.workspaceId, timeZone)]);
      setStep({ name: "previewed", preview, importId, earlier });
    } catch (error) {
      setStep({ name: "idle" });
      setReadError(`Pacer could not read this file: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function onImport(preview: ImportPreview, importId: string) {
    setStep({ name: "importing", preview, importId, progress: { done: 0, total: preview.good.length, waitingSeconds: null } });
    const summary = await sendImport(preview, {
      importId,
      timeZone,
      ifPast: postPastNow ? "publish_now" : undefined,
      onProgress: (progress) => setStep({ name: "importing", preview, importId, progress }),
    });
    setStep({ name: "done", preview, importId, summary });
    await refresh();
  }

  if (!access || !accounts.data) {
    return <LoadState what="the import page" error={overview.error ?? accounts.error} />;
  }

  const preview = step.name === "previewed" || step.name === "importing" || step.name === "done" ? step.preview : null;
  const earlier = step.name === "previewed" && step.earlier && (step.earlier.alreadyImported > 0 || step.earlier.changed.length > 0) ? step.earlier : null;

  return (
    <div className="grid grid-cols-1 gap-6">
      {!access.planIncludesImport && (
        <Alert data-testid="import-plan-notice">
          <Info aria-hidden />
          <AlertTitle>Bulk import is part of {access.includedFrom} and above</AlertTitle>
          <AlertDescription>
            <p>
              This workspace is on the {access.planName} plan. You can check a file here, but importing it needs {access.includedFrom} or
              above.{" "}
              <Link href="/dashboard/billing" className="font-medium text-foreground underline underline-offset-4">
                Upgrade in Billing
              </Link>
              , or add posts one at a time on the{" "}
              <Link href="/dashboard/queue" className="font-medium text-foreground underline underline-offset-4">
                Queue
              </Link>{" "}
              page.
            </p>
          </AlertDescription>
        </Alert>
      )}
      {access.planIncludesImport && !access.canImport && (
        <Alert>
          <Info aria-hidden />
          <AlertTitle>Your role cannot import</AlertTitle>
          <AlertDescription>Editors, admins and owners of this workspace can import posts; you can check a file and read past imports.</AlertDescription>
        </Alert>
      )}
      {access.planIncludesImport && access.canImport && access.rowsWaitForApproval && (
        <Alert data-testid="import-approval-notice">
          <Info aria-hidden />
          <AlertTitle>Your rows will wait for approval</AlertTitle>
          <AlertDescription>
            <p>
              Editors&apos; posts in this workspace need an admin&apos;s or the owner&apos;s approval. Importing sends each good row for approval on
              its own; it enters the queue when approved. Follow them on the{" "}
              <Link href="/dashboard/approvals" className="font-medium text-foreground underline underline-offset-4">
                Approvals
              </Link>{" "}
              page.
            </p>
          </AlertDescription>
        </Alert>
      )}

      <ColumnsCard exampleAccount={firstAccount ? `${firstAccount.platform}:${firstAccount.handle}` : null} />

      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Check a file</h2>
          </CardTitle>
          <CardDescription>Pacer reads and checks the file in your browser first; nothing is queued until you confirm.</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          <div className="grid max-w-md gap-2">
            <Label htmlFor="import-file">CSV file</Label>
            <Input
              id="import-file"
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={onFile}
              disabled={step.name === "reading" || step.name === "importing"}
            />
            <p className="text-sm text-muted-foreground" data-testid="import-zone">
              Times without a zone or an offset are read in <span className="font-medium text-foreground">{timeZone}</span> (change it in{" "}
              <Link href="/dashboard/settings" className="underline underline-offset-4">
                Settings
              </Link>
              ), unless a row names its timezone.
            </p>
            <label className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                className="accent-primary"
                checked={postPastNow}
                onChange={(e) => onPostPastNow(e.currentTarget.checked)}
                disabled={step.name === "reading" || step.name === "importing"}
              />
              Publish rows whose time has passed now (otherwise they are rows with problems)
            </label>
          </div>
          {readError && (
            <Alert variant="destructive">
              <CircleAlert aria-hidden />
              <AlertTitle>The file could not be read</AlertTitle>
              <AlertDescription>{readError}</AlertDescription>
            </Alert>
          )}
          {step.name === "reading" && (
            <p role="status" className="text-sm text-muted-foreground">
              Checking rows… {step.total ? `${step.checked.toLocaleString("en")} of ${step.total.toLocaleString("en")}` : ""}
            </p>
          )}
          {preview && <PreviewSection preview={preview} />}
          {earlier && (
            <Alert data-testid="import-earlier">
              <Info aria-hidden />
              <AlertTitle>This file was imported before</AlertTitle>
              <AlertDescription>
                {earlier.alreadyImported > 0 && (
                  <p>
                    {`${plural(earlier.alreadyImported, "row")} of this file ${earlier.alreadyImported === 1 ? "is" : "are"} already queued${earlier.importedAt ? ` (imported ${shortTime(earlier.importedAt, timeZone)})` : ""}; importing skips ${earlier.alreadyImported === 1 ? "it" : "them"} and queues the others.`}
                  </p>
                )}
                {earlier.changed.length > 0 && (
                  <p>
                    {`${earlier.changed.length === 1 ? "Row" : "Rows"} ${earlier.changed.map((c) => c.rowNumber).join(", ")} changed since ${earlier.changed.length === 1 ? "it was" : "they were"} imported and will not be imported again. If ${earlier.changed.length === 1 ? "it replaces its queued post, cancel that post" : "they replace their queued posts, cancel those"}; then import ${earlier.changed.length === 1 ? "the row" : "them"} in a file of ${earlier.changed.length === 1 ? "its" : "their"} own (the summary offers a download).`}
                  </p>
                )}
              </AlertDescription>
            </Alert>
          )}
          {step.name === "previewed" && preview && preview.fileIssues.length === 0 && (
            <div className="flex flex-wrap items-center gap-3">
              <Button onClick={() => onImport(preview, step.importId)} disabled={!mayImport || preview.good.length === 0}>
                <Upload aria-hidden />
                {`Import ${plural(preview.good.length, "post")}`}
              </Button>
              {!mayImport && (
                <span className="text-sm text-muted-foreground">
                  {access.planIncludesImport ? "Your role cannot import." : `Importing needs ${access.includedFrom} or above.`}
                </span>
              )}
            </div>
          )}
          {step.name === "importing" && <ImportProgressBar progress={step.progress} />}
          {step.name === "done" && <ImportDone summary={step.summary} preview={step.preview} />}
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Recent imports</h2>
          </CardTitle>
          <CardDescription>The latest files imported into this workspace.</CardDescription>
        </CardHeader>
        <CardContent>
          <RecentImports imports={access.imports} />
        </CardContent>
      </Card>
    </div>
  );
}

function PreviewSection({ preview }: { preview: ImportPreview }) {
  const zone = useTimeZone().timeZone;
  return (
    <section aria-label="Preview" className="grid gap-4">
      {preview.notices.map((notice) => (
        <Alert key={notice}>
          <Info aria-hidden />
          <AlertDescription>{notice}</AlertDescription>
        </Alert>
      ))}
      {preview.fileIssues.length > 0 ? (
        <Alert variant="destructive" data-testid="import-file-issues">
          <CircleAlert aria-hidden />
          <AlertTitle>{`${preview.fileName} cannot be imported`}</AlertTitle>
          <AlertDescription>
            <ul className="list-disc pl-4">
              {preview.fileIssues.map((issue) => (
                <li key={issue}>{issue}</li>
              ))}
            </ul>
          </AlertDescription>
        </Alert>
      ) : (
        <>
          <p role="status" data-testid="import-preview-summary" className="text-sm">
            {`${preview.fileName}: ${plural(preview.good.length, "row")} ready to import, ${plural(preview.bad.length, "row")} with problems.`}{" "}
            <span className="text-muted-foreground">{`Local times are read in ${zone} unless a row names its timezone.`}</span>
          </p>
          {preview.bad.length > 0 && (
            <div className="grid gap-2">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h3 className="font-medium">Rows with problems (not imported)</h3>
                <Button variant="outline" size="sm" onClick={() => downloadText(badRowsName(preview.fileName), badRowsCsv(preview))}>
                  <Download aria-hidden />
                  Download the bad rows (CSV)
                </Button>
              </div>
              <BadRowsTable rows={preview.bad} />
            </div>
          )}
          {preview.good.length > 0 && <FirstRows preview={preview} />}
        </>
      )}
    </section>
  );
}

const badRowsName = (fileName: string) => `${fileName.replace(/\.csv$/i, "")}-bad-rows.csv`;

function FirstRows({ preview }: { preview: ImportPreview }) {
  const first = preview.good.slice(0, 5);
  return (
    <div className="grid gap-2">
      <h3 className="font-medium">{preview.good.length > first.length ? `The first ${first.length} rows to import` : "Rows to import"}</h3>
      <Table data-cards aria-label="Rows to import">
        <TableHeader>
          <TableRow>
            <TableHead className="w-16">Row</TableHead>
            <TableHead>Text</TableHead>
            <TableHead>Accounts</TableHead>
            <TableHead>Scheduled</TableHead>
            <TableHead>Priority</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {first.map(({ row, post }) => (
            <TableRow key={row.rowNumber}>
              <TableCell data-label="Row">{row.rowNumber}</TableCell>
              <TableCell data-label="Text" className="max-w-xs truncate">{post.text}</TableCell>
              <TableCell data-label="Accounts">{row.accounts}</TableCell>
              <TableCell data-label="Scheduled">{post.scheduledFor ? <When at={post.scheduledFor} /> : "As soon as possible"}</TableCell>
              <TableCell data-label="Priority">{post.priority ?? 5}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}

function ImportProgressBar({ progress }: { progress: ImportProgress }) {
  return (
    <div className="grid gap-2">
      <div
        role="progressbar"
        aria-label="Rows imported"
        aria-valuemin={0}
        aria-valuemax={progress.total}
        aria-valuenow={progress.done}
        className="relative h-2 w-full overflow-hidden rounded-full bg-primary/20"
      >
        <div className="h-full bg-primary transition-[width]" style={{ width: `${progress.total ? (progress.done / progress.total) * 100 : 0}%` }} />
      </div>
      <p role="status" className="text-sm text-muted-foreground">
        {`Importing… ${progress.done.toLocaleString("en")} of ${progress.total.toLocaleString("en")} rows`}
        {progress.waitingSeconds ? ` (waiting ${progress.waitingSeconds} s before the next request)` : ""}
      </p>
    </div>
  );
}

function ImportDone({ summary, preview }: { summary: ImportSummary; preview: ImportPreview }) {
  const bad = preview.bad.length + summary.refused.length;
  const notImported = bad + summary.changed.length;
  const withRefused: ImportPreview = { ...preview, bad: [...preview.bad, ...summary.refused, ...summary.changed] };
  return (
    <div className="grid gap-3">
      {summary.stoppedBy && (
        <Alert variant="destructive">
          <CircleAlert aria-hidden />
          <AlertTitle>The import stopped</AlertTitle>
          <AlertDescription>{summary.stoppedBy}</AlertDescription>
        </Alert>
      )}
      <Alert data-testid="import-summary">
        <Info aria-hidden />
        <AlertTitle>{summary.stoppedBy ? "Imported before it stopped" : "Import finished"}</AlertTitle>
        <AlertDescription>
          <p>
            {`${plural(summary.imported, "row")} imported (${plural(summary.items, "queue item")}), ${plural(summary.alreadyImported, "row")} already imported before, ${plural(bad, "row")} with problems not imported.`}
            {summary.changed.length > 0 && ` ${plural(summary.changed.length, "row")} changed since an earlier upload of this file imported ${summary.changed.length === 1 ? "it" : "them"}, not imported again.`}{" "}
            <Link href="/dashboard/queue" className="font-medium text-foreground underline underline-offset-4">
              See the queue
            </Link>
          </p>
          {summary.awaitingApproval > 0 && (
            <p data-testid="import-awaiting-approval">
              {`${plural(summary.awaitingApproval, "row")} sent for approval: editors' posts in this workspace need an admin's or the owner's approval, so each row waits on the Approvals page and enters the queue when approved.`}{" "}
              <Link href="/dashboard/approvals" className="font-medium text-foreground underline underline-offset-4">
                See them on the Approvals page
              </Link>
            </p>
          )}
        </AlertDescription>
      </Alert>
      {summary.refused.length > 0 && (
        <div className="grid gap-2">
          <h3 className="font-medium">Rows the server refused</h3>
          <BadRowsTable rows={summary.refused} />
        </div>
      )}
      {summary.changed.length > 0 && (
        <div className="grid gap-2" data-testid="import-changed">
          <h3 className="font-medium">Rows changed since they were imported (not imported again)</h3>
          <BadRowsTable rows={summary.changed} />
        </div>
      )}
      {notImported > 0 && (
        <div>
          <Button variant="outline" size="sm" onClick={() => downloadText(badRowsName(preview.fileName), badRowsCsv(withRefused))}>
            <Download aria-hidden />
            Download the rows that were not imported (CSV)
          </Button>
        </div>
      )}
    </div>
  );
}
