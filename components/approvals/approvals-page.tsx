"use client";
// The approvals page: the workspace's setting "editors' posts need approval" (admins and the owner
// change it), and the submissions waiting or decided — admins approve, edit then approve, or reject
// with a note, or approve all shown at once (an editor's CSV rows wait one submission each); editors
// follow their own. The API decides who may do what; this page only offers it.
import { useState } from "react";
import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CircleAlert } from "lucide-react";
import { ApiError, failureMessage, getJson, sendJson } from "@/lib/api/client";
import type { ApprovalsView, ApproveManyResult, Submission } from "@/lib/approvals";
import { SUBMISSION_STATUSES, rejectInput } from "@/lib/approvals/input";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Textarea } from "@/components/ui/textarea";
import { Input } from "@/components/ui/input";
import { useTimeZone } from "@/components/time/time-zone";
import { When } from "@/components/time/when";
import { hasPassed, isPastSchedule, pastChoiceMessage } from "@/lib/time/schedule";
import { instantOfWallTime, wallTimeAt } from "@/lib/time/wall-time";


const approvalsQuery = (workspaceId: string | undefined, status: string) =>
  queryOptions({
    queryKey: ["approvals", workspaceId ?? "default", status],
    queryFn: () => {
      const params = new URLSearchParams();
      if (workspaceId) params.set("workspaceId", workspaceId);
      if (status) params.set("status", status);
      return getJson<ApprovalsView>(`/api/approvals?${params}`);
    },
  });

export function ApprovalsPage({ workspaceId }: { workspaceId?: string }) {
  const [status, setStatus] = useState<string>("submitted");
  const approvals = useQuery(approvalsQuery(workspaceId, status));
  if (!approvals.data) return <LoadState what="approvals" error={approvals.error} />;
  const view = approvals.data;
  return (
    <div className="grid grid-cols-1 gap-6">
      <SettingCard view={view} />
      <div className="grid max-w-xs gap-2">
        <Label htmlFor="approvals-status">Show</Label>
        <NativeSelect id="approvals-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">All submissions</option>
          {SUBMISSION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s[0].toUpperCase() + s.slice(1)}
            </option>
          ))}
        </NativeSelect>
      </div>
      {view.canDecide && <ApproveAllShown submissions={view.submissions} />}
      {view.submissions.length === 0 ? (
        <p className="rounded-lg border border-dashed p-6 text-sm text-muted-foreground" data-testid="approvals-empty">
          No {status || ""} submissions.
        </p>
      ) : (
        <ul className="grid gap-4" data-testid="approvals-list">
          {view.submissions.map((s) => (
            <SubmissionCard key={s.id} submission={s} canDecide={view.canDecide} />
          ))}
        </ul>
      )}
    </div>
  );
}

function useRefresh() {
  const client = useQueryClient();
  // The queue and the audit log change with every decision.
  return () => Promise.all(["approvals", "queue", "audit"].map((key) => client.invalidateQueries({ queryKey: [key] })));
}

function Problem({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <Alert variant="destructive">
      <CircleAlert aria-hidden />
      <AlertTitle>Not done</AlertTitle>
      <AlertDescription>{message}</AlertDescription>
    </Alert>
  );
}

function SettingCard({ view }: { view: ApprovalsView }) {
  const refresh = useRefresh();
  // Shown as asked at once, while the change is on its way and until the page has re-read the
  // setting. Held in React state set in the click itself: the mutation's own pending state reaches
  // the page a tick later, and a controlled checkbox would snap back in between.
  const [asked, setAsked] = useState<boolean | null>(null);
  const change = useMutation({
    mutationFn: (enabled: boolean) => sendJson("PUT", "/api/workspace/approval-setting", { workspaceId: view.workspaceId, enabled }),
    onSettled: async () => {
      await refresh();
      setAsked(null);
    },
  });
  const on = asked ?? view.editorPostsNeedApproval;
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Editors&apos; posts need approval</h2>
        </CardTitle>
        <CardDescription>
          When on, posts queued by editors wait here until an admin or the owner approves them. Admins&apos; and owners&apos; own posts never wait.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        <div className="flex items-center gap-2">
          <Checkbox
            id="approval-setting"
            checked={on}
            disabled={!view.canDecide || change.isPending}
            onChange={(e) => {
              setAsked(e.target.checked);
              change.mutate(e.target.checked);
            }}
          />
          <Label htmlFor="approval-setting">{on ? "On" : "Off"}</Label>
          {!view.canDecide && <span className="text-sm text-muted-foreground">(admins and the owner change this)</span>}
        </div>
        <Problem message={change.error ? failureMessage(change.error) : null} />
      </CardContent>
    </Card>
  );
}

/**
 * "Approve all shown": every waiting submission on the page, as it is, in one request — for an
 * editor's CSV import, whose rows wait one submission each. Those that cannot be queued any more are
 * listed with why; the others go in.
 */
function ApproveAllShown({ submissions }: { submissions: Submission[] }) {
  const refresh = useRefresh();
  const waiting = submissions.filter((s) => s.status === "submitted");
  const approveAll = useMutation({
    mutationFn: (ids: string[]) => sendJson<ApproveManyResult>("POST", "/api/approvals/approve", { ids }),
    onSettled: refresh,
  });
  const result = approveAll.data;
  if (waiting.length < 2 && !result) return null;
  return (
    <div className="grid gap-3">
      {waiting.length >= 2 && (
        <div className="flex flex-wrap items-center gap-3">
          <Button disabled={approveAll.isPending} onClick={() => approveAll.mutate(waiting.map((s) => s.id))}>
            {approveAll.isPending ? "Approving…" : `Approve all ${waiting.length} shown`}
          </Button>
          <span className="text-sm text-muted-foreground">As they are; open one to edit or reject it first.</span>
        </div>
      )}
      {result && (
        <Alert variant={result.notApproved.length ? "destructive" : "default"} data-testid="approve-all-result">
          <CircleAlert aria-hidden />
          <AlertTitle>{`Approved ${result.approved.length} ${result.approved.length === 1 ? "submission" : "submissions"}`}</AlertTitle>
          {result.notApproved.length > 0 && (
            <AlertDescription>
              <p>{`${result.notApproved.length} not approved:`}</p>
              <ul className="list-disc pl-5">
                {result.notApproved.slice(0, 10).map((n) => (
                  <li key={n.id}>{n.message}</li>
                ))}
              </ul>
            </AlertDescription>
          )}
        </Alert>
      )}
      <Problem message={approveAll.error ? failureMessage(approveAll.error) : null} />
    </div>
  );
}

const STATUS_VARIANT = { submitted: "secondary", approved: "default", rejected: "destructive" } as const;

function SubmissionCard({ submission: s, canDecide }: { submission: Submission; canDecide: boolean }) {
  // Times in the user's zone (their setting, else the browser's), as on every page.
  const { timeZone } = useTimeZone();
  const refresh = useRefresh();
  const request = s.request as {
    text?: string;
    items?: Array<{ text?: string }>;
    scheduledFor?: string;
    thread?: string[];
    platformOptions?: { mastodon?: { visibility?: string; contentWarning?: string } };
  };
  const mastodon = request.platformOptions?.mastodon;
  const [text, setText] = useState(request.text ?? "");
  // The time as the admin edits it (null: untouched, so it follows the zone once the setting loads).
  const [when, setWhen] = useState<string | null>(null);
  const [timeProblem, setTimeProblem] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const [noteProblem, setNoteProblem] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: (d: { action: "approve"; edits?: Record<string, unknown> } | { action: "reject"; note: string }) =>
      d.action === "approve"
        ? sendJson("POST", `/api/approvals/${s.id}/approve`, d.edits ?? {})
        : sendJson("POST", `/api/approvals/${s.id}/reject`, { note: d.note }),
    onSettled: refresh,
  });
  const open = canDecide && s.status === "submitted";
  const edited = s.kind === "add" && text !== (request.text ?? "");
  const originalWhen = request.scheduledFor ? wallTimeAt(request.scheduledFor, timeZone) : "";
  const timeEdited = s.kind === "add" && when !== null && when !== originalWhen;
  // The time it was sent with has gone by (or the API said so): the admin chooses, nothing is guessed.
  const refusedAsPast = decide.error instanceof ApiError && decide.error.code === "scheduled_in_past";
  const passed = open && !timeEdited && ((s.kind === "add" && hasPassed(request.scheduledFor)) || refusedAsPast);

  const approve = (postNow = false) => {
    setTimeProblem(null);
    const edits: Record<string, unknown> = {};
    if (edited) edits.text = text;
    if (timeEdited && when) {
      const at = instantOfWallTime(when, timeZone);
      if (!at.ok) return setTimeProblem(at.message);
      if (isPastSchedule(at.instant)) return setTimeProblem(`${pastChoiceMessage(at.instant, timeZone)} Choose a later time, or post it now.`);
      edits.scheduledFor = at.instant;
    }
    if (postNow) edits.ifPast = "publish_now";
    decide.mutate({ action: "approve", edits });
  };

  const reject = () => {
    const parsed = rejectInput.safeParse({ note });
    if (!parsed.success) return setNoteProblem(parsed.error.issues[0].message);
    setNoteProblem(null);
    decide.mutate({ action: "reject", note: parsed.data.note });
  };

  return (
    <li>
      <Card data-testid="submission">
        <CardHeader>
          <CardTitle className="flex flex-wrap items-center gap-2 text-base">
            <Badge variant={STATUS_VARIANT[s.status]}>{s.status}</Badge>
            <span>{s.kind === "bulk" ? `${s.posts} posts (bulk)` : "1 post"}</span>
          </CardTitle>
          <CardDescription>
            From {s.submittedByEmail ?? "a former member"}, <When at={s.createdAt} />
            {s.fromImport ? `; row ${s.fromImport.rowNumber} of ${s.fromImport.fileName}` : ""}
            {request.scheduledFor && (
              <>
                ; scheduled for <When at={request.scheduledFor} />
              </>
            )}
            {s.decidedAt && (
              <>
                ; {s.status} <When at={s.decidedAt} />
              </>
            )}
          </CardDescription>
        </CardHeader>
        <CardContent className="grid gap-3">
          {s.kind === "add" && open ? (
            <div className="grid gap-2">
              <Label htmlFor={`text-${s.id}`}>Text (edit before approving if needed)</Label>
              <Textarea id={`text-${s.id}`} value={text} onChange={(e) => setText(e.target.value)} rows={4} />
              {request.scheduledFor && (
                <>
                  <Label htmlFor={`when-${s.id}`}>Scheduled for ({timeZone})</Label>
                  <Input
                    id={`when-${s.id}`}
                    type="datetime-local"
                    className="max-w-64"
                    value={when ?? originalWhen}
                    onChange={(e) => setWhen(e.target.value)}
                    aria-invalid={timeProblem ? true : undefined}
                    aria-describedby={timeProblem ? `when-${s.id}-problem` : undefined}
                  />
                  {timeProblem && (
                    <p id={`when-${s.id}-problem`} className="text-sm text-destructive">
                      {timeProblem}
                    </p>
                  )}
                </>
              )}
            </div>
          ) : (
            <p className="whitespace-pre-wrap text-sm">
              {s.kind === "add" ? request.text : (request.items ?? []).slice(0, 3).map((i) => i.text).join("\n")}
              {s.kind === "bulk" && s.posts > 3 ? `\n… and ${s.posts - 3} more` : ""}
            </p>
          )}
          {s.kind === "add" && (request.thread?.length ?? 0) > 0 && (
            <div className="grid gap-1 text-sm" data-testid="submission-thread">
              <p className="font-medium">{`Then ${request.thread!.length} more ${request.thread!.length === 1 ? "post" : "posts"} as a thread:`}</p>
              <ol className="list-decimal whitespace-pre-wrap pl-5">
                {request.thread!.map((part, i) => (
                  <li key={i}>{part}</li>
                ))}
              </ol>
            </div>
          )}
          {s.kind === "add" && mastodon && (mastodon.visibility || mastodon.contentWarning) && (
            <p className="text-sm text-muted-foreground">
              {`Mastodon: ${[mastodon.visibility && `visibility ${mastodon.visibility}`, mastodon.contentWarning && `content warning "${mastodon.contentWarning}"`].filter(Boolean).join(", ")}.`}
            </p>
          )}
          {s.note && (
            <p className="text-sm" data-testid="submission-note">
              <span className="font-medium">Note: </span>
              {s.note}
            </p>
          )}
          {open && (
            <div className="grid gap-3">
              {passed ? (
                <div role="alert" className="grid gap-2 rounded-lg border border-amber-500 p-3 text-sm" data-testid="submission-past">
                  <p className="font-medium">
                    {s.kind === "add" && request.scheduledFor
                      ? `It was to go out ${pastChoiceMessage(request.scheduledFor, timeZone).replace(/\.$/, "")}: that time has passed.`
                      : "Some of these posts were to go out at a time that has passed."}
                  </p>
                  <p>Approve it to post now, or {s.kind === "add" ? "change the time above and approve" : "reject it with a note asking for new times"}.</p>
                  <div className="flex flex-wrap gap-2">
                    <Button disabled={decide.isPending} onClick={() => approve(true)}>
                      Approve and post now
                    </Button>
                  </div>
                </div>
              ) : (
                <div className="flex flex-wrap gap-2">
                  <Button disabled={decide.isPending} onClick={() => approve()}>
                    {edited || timeEdited ? "Save and approve" : "Approve"}
                  </Button>
                </div>
              )}
              <div className="grid gap-2">
                <Label htmlFor={`note-${s.id}`}>Note for the editor</Label>
                <Textarea id={`note-${s.id}`} value={note} onChange={(e) => setNote(e.target.value)} rows={2} aria-invalid={noteProblem ? true : undefined} />
                {noteProblem && <p className="text-sm text-destructive">{noteProblem}</p>}
                <div>
                  <Button variant="outline" disabled={decide.isPending} onClick={reject}>
                    Reject with note
                  </Button>
                </div>
              </div>
            </div>
          )}
          <Problem message={decide.error && !refusedAsPast ? failureMessage(decide.error) : null} />
        </CardContent>
      </Card>
    </li>
  );
}
