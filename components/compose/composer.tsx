"use client";
// The composer: write once, choose accounts, see each platform's version and count, add media, a
// first comment or a thread, Mastodon's visibility and content warning, a destination, a priority and
// a time in the user's zone; queue it (POST
// /api/queue/add, or /api/drafts/:id/queue for an open draft; an editor's post waits for approval
// instead while the workspace asks for it: 202) or keep it as a draft. The form checks
// with the API's own schema (components/compose/form.ts), and the API's field issues land on the
// same fields; on an invalid submit the first invalid field gets focus.
import { useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import { Controller, useFieldArray, useForm, useWatch, type FieldPath } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowDown, ArrowUp, CircleAlert, Clock, Plus, Save, Send, Trash2 } from "lucide-react";
import { accountsQuery } from "@/components/accounts/queries";
import { useTimeZone } from "@/components/time/time-zone";
import { relativeTime, shortTime } from "@/lib/time/relative";
import { hasPassed } from "@/lib/time/schedule";
import { TimeZoneSetting } from "@/components/time/time-zone-setting";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Textarea } from "@/components/ui/textarea";
import { ApiError, failureMessage, sendJson } from "@/lib/api/client";
import type { Submission } from "@/lib/approvals";
import type { Draft } from "@/lib/drafts/input";
import type { MastodonVisibility } from "@/lib/connectors/types";
import { MAX_CONTENT_WARNING, MAX_MEDIA_URLS, MAX_THREAD_PARTS, type AddToQueueInput } from "@/lib/queue/input";
import { instantOfWallTime } from "@/lib/time/wall-time";
import { AccountPicker } from "./account-picker";
import { DraftsList } from "./drafts-list";
import {
  choosesMastodon,
  composerSchema,
  contentWarningOf,
  emptyComposer,
  fieldOf,
  fromDraftContent,
  rulesOf,
  threadProblems,
  toDraftContent,
  toPostInput,
  type ComposerContext,
  type ComposerValues,
} from "./form";
import { PlatformPreviews } from "./previews";
import { draftsQuery, platformLimitsQuery, textRules, useRefreshDrafts } from "./queries";

const PRIORITIES = Array.from({ length: 10 }, (_, i) => 10 - i);
const priorityLabel = (p: number) => (p === 10 ? "10 (first)" : p === 1 ? "1 (last)" : p === 5 ? "5 (normal)" : String(p));

/** Mastodon's visibilities in its own words, with what each means for who sees the post. */
const VISIBILITIES: Array<{ value: MastodonVisibility; label: string; explanation: string }> = [
  { value: "public", label: "Public", explanation: "Anyone can see it, on the profile and in public timelines and search." },
  { value: "unlisted", label: "Unlisted", explanation: "Anyone can see it on the profile, but it stays out of public timelines and trends." },
  { value: "private", label: "Followers only", explanation: "Only the account's followers (and anyone mentioned) see it." },
  { value: "direct", label: "Mentioned people only", explanation: "Only the accounts it @mentions see it, as a private mention." },
];

type Notice = { kind: "error" | "done"; title: string; message: string } | null;

export function Composer() {
  const accounts = useQuery(accountsQuery);
  const limits = useQuery(platformLimitsQuery);
  const drafts = useQuery(draftsQuery);
  const tz = useTimeZone();
  const queryClient = useQueryClient();
  const refreshDrafts = useRefreshDrafts();

  const [draft, setDraft] = useState<Draft | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [past, setPast] = useState<AddToQueueInput | null>(null);
  const [sending, setSending] = useState(false);
  const pastRef = useRef<HTMLDivElement>(null);
  const noticeRef = useRef<HTMLDivElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  // Set on an invalid submit (or refused request); the first render that shows the errors then puts
  // the keyboard on the first marked field in page order (see the effect below).
  const focusPending = useRef(false);
  const requestFocus = () => {
    focusPending.current = true;
  };

  const list = useMemo(() => accounts.data?.accounts ?? [], [accounts.data]);
  const rules = useMemo(() => textRules(limits.data?.platforms), [limits.data]);
  const platformOf = useMemo(() => new Map(list.map((a) => [a.id, a.platform])), [list]);
  const ctx: ComposerContext = useMemo(
    () => ({ timeZone: tz.timeZone, ruleOf: (id) => rules.get(platformOf.get(id) ?? "") }),
    [tz.timeZone, rules, platformOf],
  );
  const resolver = useMemo(() => zodResolver(composerSchema(ctx)), [ctx]);
  // Focus is ours (focusRequest above): in page order, including the thread's own notice, which
  // react-hook-form cannot focus.
  const form = useForm<ComposerValues>({ defaultValues: emptyComposer, resolver, reValidateMode: "onChange", shouldFocusError: false });
  const { register, control, formState } = form;
  const { errors } = formState;
  const media = useFieldArray({ control, name: "mediaUrls" });
  const parts = useFieldArray({ control, name: "thread" });
  const [text, firstComment, accountIds, mediaUrls, when, scheduledFor, thread, visibility, contentWarning] = useWatch({
    control,
    name: ["text", "firstComment", "accountIds", "mediaUrls", "when", "scheduledFor", "thread", "visibility", "contentWarning"],
  });
  const mastodon = choosesMastodon(accountIds, ctx.ruleOf);
  // Shown as soon as they are true, not only on submit: the same words the server uses.
  const threadRefusals = threadProblems({ thread, firstComment, accountIds }, ctx.ruleOf);
  const threadError = errors.thread?.root?.message ?? errors.thread?.message;
  useEffect(() => {
    if (!focusPending.current || Object.keys(errors).length === 0) return;
    focusPending.current = false;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"], [data-invalid-focus]')?.focus();
  });
  const threadMessages = threadError && !threadRefusals.includes(threadError) ? [...threadRefusals, threadError] : threadRefusals;

  const chosenRules = rulesOf(accountIds, ctx.ruleOf);
  const counts = new Map<string, number>();
  for (const id of accountIds) {
    const p = platformOf.get(id);
    if (p) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const scheduled = when === "later" && scheduledFor ? instantOfWallTime(scheduledFor, tz.timeZone) : null;

  const show = (n: Notice) => {
    setNotice(n);
    // After the browser paints it, so a screen reader and the keyboard land on the outcome.
    requestAnimationFrame(() => noticeRef.current?.focus());
  };

  /** Put the API's field issues on their fields (focus on the first), the rest in the notice. */
  function showApiError(error: unknown, title: string, fieldFor: (path: string) => string = fieldOf) {
    if (error instanceof ApiError && error.issues?.length) {
      let onFields = false;
      const elsewhere: string[] = [];
      for (const issue of error.issues) {
        const name = fieldFor(issue.path);
        if (name === "root") {
          elsewhere.push(`${issue.path}: ${issue.message}`);
          continue;
        }
        if (!onFields) requestFocus();
        form.setError(name as FieldPath<ComposerValues>, { type: "server", message: issue.message });
        onFields = true;
      }
      setNotice({ kind: "error", title, message: elsewhere.length ? elsewhere.join(" ") : "See the fields marked in red." });
      if (!onFields) requestAnimationFrame(() => noticeRef.current?.focus());
      else requestAnimationFrame(() => noticeRef.current?.focus());
      return;
    }
    show({ kind: "error", title, message: failureMessage(error) });
  }

  async function queue(input: AddToQueueInput) {
    setPast(null);
    setNotice(null);
    setSending(true);
    try {
      const url = draft ? `/api/drafts/${draft.id}/queue` : "/api/queue/add";
      const answer = await sendJson<{ items: unknown[] } | { submission: Submission }>("POST", url, input);
      const when = input.scheduledFor ? `for ${shortTime(input.scheduledFor, tz.timeZone)}` : "to publish now";
      const accounts = (n: number) => `${n} ${n === 1 ? "account" : "accounts"}`;
      if ("submission" in answer) {
        // 202: an editor's post while the workspace's posts need approval. It is not in the queue yet.
        show({
          kind: "done",
          title: "Sent for approval",
          message: `Your post for ${accounts(input.accountIds.length)}, ${when}, waits for an admin or the owner of this workspace to approve it; it enters the queue only then. Follow it, and read their note if they reject it, on the Approvals page.`,
        });
      } else {
        show({ kind: "done", title: "Queued", message: `Queued for ${accounts(answer.items.length)}, ${when}.` });
      }
      form.reset(emptyComposer);
      setDraft(null);
      await Promise.all([queryClient.invalidateQueries({ queryKey: ["queue"] }), refreshDrafts()]);
    } catch (error) {
      // The time passed while the form was open (or the clocks disagree): the same choice as below.
      if (error instanceof ApiError && error.code === "scheduled_in_past" && input.scheduledFor) {
        setPast(input);
        requestAnimationFrame(() => pastRef.current?.focus());
      } else {
        showApiError(error, "The post was not queued");
      }
    } finally {
      setSending(false);
    }
  }

  function onValid(values: ComposerValues) {
    const { input } = toPostInput(values, ctx);
    // A time already gone is a choice, not a silent "now".
    if (hasPassed(input.scheduledFor)) {
      setPast(input);
      requestAnimationFrame(() => pastRef.current?.focus());
      return;
    }
    return queue(input);
  }

  async function saveDraft() {
    setNotice(null);
    form.clearErrors();
    const { content, mediaRows, threadRows, issue } = toDraftContent(form.getValues(), tz.timeZone);
    if (issue) {
      requestFocus();
      form.setError(issue.name as FieldPath<ComposerValues>, { type: "draft", message: issue.message });
      return;
    }
    setSending(true);
    try {
      const saved = draft
        ? await sendJson<{ draft: Draft }>("PATCH", `/api/drafts/${draft.id}`, { content })
        : await sendJson<{ draft: Draft }>("POST", "/api/drafts", { content });
      setDraft(saved.draft);
      show({ kind: "done", title: "Draft saved", message: `Saved ${shortTime(saved.draft.updatedAt, tz.timeZone)}. Your workspace's editors can open it too.` });
      await refreshDrafts();
    } catch (error) {
      // Draft issues name content.<field>; media rows and thread parts left empty were not sent.
      showApiError(error, "The draft was not saved", (path) => {
        const rest = path.replace(/^content\./, "");
        const m = /^mediaUrls\.(\d+)/.exec(rest);
        if (m) return `mediaUrls.${mediaRows[Number(m[1])] ?? 0}.url`;
        const t = /^thread\.(\d+)/.exec(rest);
        return t ? `thread.${threadRows[Number(t[1])] ?? 0}.text` : fieldOf(rest);
      });
    } finally {
      setSending(false);
    }
  }

  function openDraft(d: Draft) {
    const values = fromDraftContent(d.content, tz.timeZone);
    // Accounts removed since the draft was saved are left out rather than refused at queue time.
    values.accountIds = values.accountIds.filter((id) => platformOf.has(id));
    form.reset(values);
    setDraft(d);
    setPast(null);
    setNotice(null);
    requestAnimationFrame(() => form.setFocus("text"));
  }

  function newPost() {
    form.reset(emptyComposer);
    setDraft(null);
    setNotice(null);
    setPast(null);
  }

  const fieldError = (name: string, message: string | undefined) =>
    message ? (
      <p id={`compose-${name}-error`} className="text-sm text-destructive">
        {message}
      </p>
    ) : null;
  const invalidProps = (name: string, message: string | undefined) => ({
    "aria-invalid": message ? true : undefined,
    "aria-describedby": message ? `compose-${name}-error` : undefined,
  });

  if (!accounts.data) return <LoadState what="accounts" error={accounts.error} />;

  return (
    <div className="grid grid-cols-1 gap-6 xl:grid-cols-[minmax(0,1fr)_20rem]">
      <Card>
        <CardHeader>
          <CardTitle>
            <h2>{draft ? "Edit draft" : "New post"}</h2>
          </CardTitle>
          <CardDescription>
            {draft
              ? "Queueing this draft removes it from the drafts."
              : "One post to every chosen account; each platform's version and count is shown below the text."}
          </CardDescription>
        </CardHeader>
        <CardContent>
          <form ref={formRef} onSubmit={(e) => form.handleSubmit(onValid, () => requestFocus())(e)} noValidate aria-label="Compose a post" className="grid gap-6">
            {notice && (
              <Alert variant={notice.kind === "error" ? "destructive" : "default"} ref={noticeRef} tabIndex={-1} data-testid="compose-notice">
                <CircleAlert aria-hidden />
                <AlertTitle>{notice.title}</AlertTitle>
                <AlertDescription>
                  {notice.message}
                  {notice.kind === "done" && notice.title === "Queued" && (
                    <Link href="/dashboard/queue" className="font-medium underline underline-offset-4">
                      See the queue
                    </Link>
                  )}
                  {notice.kind === "done" && notice.title === "Sent for approval" && (
                    <Link href="/dashboard/approvals" className="font-medium underline underline-offset-4">
                      See it on the Approvals page
                    </Link>
                  )}
                </AlertDescription>
              </Alert>
            )}

            <div className="grid gap-2">
              <Label htmlFor="compose-text">Text</Label>
              <Textarea id="compose-text" rows={5} placeholder="What should your accounts say?" {...register("text")} {...invalidProps("text", errors.text?.message)} />
              {fieldError("text", errors.text?.message)}
            </div>

            <Controller
              control={control}
              name="accountIds"
              render={({ field, fieldState }) =>
                list.length === 0 ? (
                  <p className="text-sm text-muted-foreground">
                    No accounts to post to yet.{" "}
                    <Link href="/dashboard/accounts" className="font-medium text-foreground underline underline-offset-4">
                      Add an account
                    </Link>{" "}
                    first.
                  </p>
                ) : (
                  <AccountPicker accounts={list} value={field.value} onChange={field.onChange} inputRef={field.ref} error={fieldState.error?.message} />
                )
              }
            />

            <section className="grid gap-2" aria-labelledby="compose-preview-heading">
              <h3 id="compose-preview-heading" className="text-sm font-medium">
                Preview per platform
              </h3>
              {limits.error ? (
                <LoadState what="platform limits" error={limits.error} />
              ) : (
                <PlatformPreviews
                  rules={chosenRules}
                  counts={counts}
                  text={text}
                  firstComment={firstComment}
                  thread={thread.map((p) => p.text)}
                  contentWarning={contentWarningOf({ accountIds, contentWarning }, ctx.ruleOf)}
                  mediaUrls={mediaUrls.map((m) => m.url).filter(Boolean)}
                />
              )}
            </section>

            <fieldset className="grid gap-2">
              <legend className="mb-1 text-sm font-medium">
                Media <span className="font-normal text-muted-foreground">(https links to images or videos, up to {MAX_MEDIA_URLS})</span>
              </legend>
              {media.fields.map((f, i) => {
                const message = errors.mediaUrls?.[i]?.url?.message ?? errors.mediaUrls?.[i]?.message;
                return (
                  <div key={f.id} className="grid gap-1">
                    <div className="flex gap-2">
                      <Label htmlFor={`compose-media-${i}`} className="sr-only">
                        Media URL {i + 1}
                      </Label>
                      <Input
                        id={`compose-media-${i}`}
                        type="url"
                        inputMode="url"
                        placeholder="https://cdn.example.com/photo.jpg"
                        {...register(`mediaUrls.${i}.url`)}
                        {...invalidProps(`media-${i}`, message)}
                      />
                      <Button type="button" variant="ghost" size="icon" onClick={() => media.remove(i)}>
                        <Trash2 aria-hidden />
                        <span className="sr-only">Remove media URL {i + 1}</span>
                      </Button>
                    </div>
                    {fieldError(`media-${i}`, message)}
                  </div>
                );
              })}
              {fieldError("mediaUrls", errors.mediaUrls?.message ?? errors.mediaUrls?.root?.message)}
              <div>
                <Button type="button" variant="outline" size="sm" disabled={media.fields.length >= MAX_MEDIA_URLS} onClick={() => media.append({ url: "" })}>
                  <Plus aria-hidden />
                  Add media URL
                </Button>
              </div>
            </fieldset>

            <div className="grid gap-2">
              <Label htmlFor="compose-firstComment">
                First comment <span className="font-normal text-muted-foreground">(optional; posted as a reply where the platform allows)</span>
              </Label>
              <Textarea
                id="compose-firstComment"
                rows={2}
                // Not while there is a thread (unless a draft brought both: then it must stay clearable).
                disabled={thread.length > 0 && !firstComment}
                {...register("firstComment")}
                {...invalidProps("firstComment", errors.firstComment?.message)}
              />
              {fieldError("firstComment", errors.firstComment?.message)}
            </div>

            <fieldset className="grid gap-3" aria-describedby="compose-thread-hint">
              <legend className="mb-1 text-sm font-medium">
                Thread <span className="font-normal text-muted-foreground">(optional: up to {MAX_THREAD_PARTS} more posts, each a reply to the one before)</span>
              </legend>
              <p id="compose-thread-hint" className="text-sm text-muted-foreground">
                A thread or a first comment, not both: both would be replies to the post, side by side.
              </p>
              {parts.fields.map((f, i) => {
                const message = errors.thread?.[i]?.text?.message;
                const label = `Part ${i + 2} of the thread`;
                return (
                  <div key={f.id} className="grid gap-1">
                    <Label htmlFor={`compose-thread-${i}`}>{label}</Label>
                    <div className="flex gap-2">
                      <Textarea id={`compose-thread-${i}`} rows={3} {...register(`thread.${i}.text`)} {...invalidProps(`thread-${i}`, message)} />
                      <div className="flex flex-col">
                        <Button type="button" variant="ghost" size="icon" disabled={i === 0} onClick={() => parts.move(i, i - 1)}>
                          <ArrowUp aria-hidden />
                          <span className="sr-only">Move part {i + 2} up</span>
                        </Button>
                        <Button type="button" variant="ghost" size="icon" disabled={i === parts.fields.length - 1} onClick={() => parts.move(i, i + 1)}>
                          <ArrowDown aria-hidden />
                          <span className="sr-only">Move part {i + 2} down</span>
                        </Button>
                        <Button type="button" variant="ghost" size="icon" onClick={() => parts.remove(i)}>
                          <Trash2 aria-hidden />
                          <span className="sr-only">Remove part {i + 2}</span>
                        </Button>
                      </div>
                    </div>
                    {fieldError(`thread-${i}`, message)}
                  </div>
                );
              })}
              <div aria-live="polite" data-testid="compose-thread-problems">
                {threadMessages.length > 0 && (
                  <div tabIndex={-1} data-invalid-focus className="grid gap-1 text-sm text-destructive" id="compose-thread-error">
                    {threadMessages.map((m) => (
                      <p key={m}>{m}</p>
                    ))}
                  </div>
                )}
              </div>
              <div>
                <Button
                  type="button"
                  variant="outline"
                  size="sm"
                  disabled={parts.fields.length >= MAX_THREAD_PARTS || (parts.fields.length === 0 && firstComment.trim() !== "")}
                  onClick={() => parts.append({ text: "" }, { shouldFocus: true })}
                >
                  <Plus aria-hidden />
                  {parts.fields.length === 0 ? "Make it a thread" : "Add a part"}
                </Button>
              </div>
            </fieldset>

            {mastodon && (
              <fieldset className="grid gap-4 sm:grid-cols-2" data-testid="compose-mastodon">
                <legend className="mb-1 text-sm font-medium">Mastodon</legend>
                <div className="grid content-start gap-2">
                  <Label htmlFor="compose-visibility">Visibility</Label>
                  <NativeSelect
                    id="compose-visibility"
                    {...register("visibility")}
                    aria-invalid={errors.visibility ? true : undefined}
                    aria-describedby={errors.visibility ? "compose-visibility-error" : "compose-visibility-hint"}
                  >
                    {VISIBILITIES.map((v) => (
                      <option key={v.value} value={v.value}>
                        {v.label}
                      </option>
                    ))}
                  </NativeSelect>
                  {fieldError("visibility", errors.visibility?.message) ?? (
                    <p id="compose-visibility-hint" className="text-sm text-muted-foreground">
                      {VISIBILITIES.find((v) => v.value === visibility)?.explanation} On every part of a thread.
                    </p>
                  )}
                </div>
                <div className="grid content-start gap-2">
                  <Label htmlFor="compose-contentWarning">
                    Content warning <span className="font-normal text-muted-foreground">(optional)</span>
                  </Label>
                  <Input
                    id="compose-contentWarning"
                    maxLength={MAX_CONTENT_WARNING}
                    {...register("contentWarning")}
                    aria-invalid={errors.contentWarning ? true : undefined}
                    aria-describedby={errors.contentWarning ? "compose-contentWarning-error" : "compose-contentWarning-hint"}
                  />
                  {fieldError("contentWarning", errors.contentWarning?.message) ?? (
                    <p id="compose-contentWarning-hint" className="text-sm text-muted-foreground">
                      Shown in place of the text until the reader opens it; counts toward Mastodon&apos;s length.
                    </p>
                  )}
                </div>
              </fieldset>
            )}

            <div className="grid gap-4 sm:grid-cols-2">
              <div className="grid content-start gap-2">
                <Label htmlFor="compose-destination">
                  Destination <span className="font-normal text-muted-foreground">(optional: a subreddit, group or channel)</span>
                </Label>
                <Input id="compose-destination" {...register("destination")} {...invalidProps("destination", errors.destination?.message)} />
                {fieldError("destination", errors.destination?.message)}
              </div>
              <div className="grid content-start gap-2">
                <Label htmlFor="compose-priority">Priority</Label>
                <NativeSelect id="compose-priority" {...register("priority")} {...invalidProps("priority", errors.priority?.message)}>
                  {PRIORITIES.map((p) => (
                    <option key={p} value={p}>
                      {priorityLabel(p)}
                    </option>
                  ))}
                </NativeSelect>
                {fieldError("priority", errors.priority?.message)}
              </div>
            </div>

            <fieldset className="grid gap-3">
              <legend className="mb-1 text-sm font-medium">When</legend>
              <div className="flex flex-wrap gap-4">
                <label className="flex items-center gap-2 text-sm">
                  <input type="radio" value="now" {...register("when")} className="accent-primary" /> As soon as possible
                </label>
                <label className="flex items-center gap-2 text-sm">
                  <input type="radio" value="later" {...register("when")} className="accent-primary" /> At a time
                </label>
              </div>
              {when === "later" && (
                <div className="grid gap-2">
                  <Label htmlFor="compose-scheduledFor">Date and time ({tz.timeZone})</Label>
                  <Input
                    id="compose-scheduledFor"
                    type="datetime-local"
                    className="max-w-64"
                    {...register("scheduledFor")}
                    aria-invalid={errors.scheduledFor ? true : undefined}
                    aria-describedby={errors.scheduledFor ? "compose-scheduledFor-error" : "compose-scheduledFor-hint"}
                  />
                  {fieldError("scheduledFor", errors.scheduledFor?.message) ?? (
                    <p id="compose-scheduledFor-hint" className="text-sm text-muted-foreground" data-testid="compose-utc">
                      {scheduled?.ok
                        ? `That is ${scheduled.instant.slice(0, 16).replace("T", " ")} UTC${scheduled.ambiguous ? " (the first of the two, as the clocks go back that night)" : ""}.`
                        : scheduled
                          ? scheduled.message
                          : "Pacer publishes at this time in the zone below."}
                    </p>
                  )}
                </div>
              )}
              <TimeZoneSetting />
            </fieldset>

            {past && (
              <div ref={pastRef} tabIndex={-1} role="alert" className="grid gap-3 rounded-lg border border-amber-500 p-4 text-sm" data-testid="compose-past">
                <p className="flex items-center gap-2 font-medium">
                  <Clock className="size-4" aria-hidden />
                  {shortTime(past.scheduledFor!, tz.timeZone)} has already passed ({relativeTime(past.scheduledFor!)}).
                </p>
                <p>Post it now, or change the time?</p>
                <div className="flex flex-wrap gap-2">
                  <Button type="button" disabled={sending} onClick={() => queue({ ...past, scheduledFor: undefined })}>
                    Post now
                  </Button>
                  <Button
                    type="button"
                    variant="outline"
                    onClick={() => {
                      setPast(null);
                      form.setFocus("scheduledFor");
                    }}
                  >
                    Change the time
                  </Button>
                </div>
              </div>
            )}

            <div className="flex flex-wrap gap-2">
              <Button type="submit" disabled={sending || list.length === 0}>
                <Send aria-hidden />
                {sending ? "Working…" : "Queue post"}
              </Button>
              <Button type="button" variant="outline" disabled={sending} onClick={saveDraft}>
                <Save aria-hidden />
                {draft ? "Save draft" : "Save as draft"}
              </Button>
              {draft && (
                <Button type="button" variant="ghost" onClick={newPost}>
                  New post
                </Button>
              )}
            </div>
          </form>
        </CardContent>
      </Card>
      <DraftsList
        drafts={drafts.data?.drafts}
        error={drafts.error}
        openId={draft?.id ?? null}
        onOpen={openDraft}
        onDeleted={(id) => {
          if (draft?.id === id) setDraft(null);
          return refreshDrafts();
        }}
      />
    </div>
  );
}
