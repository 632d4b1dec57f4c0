"use client";
// The workspace's health settings (auto-pause mode and threshold) and its rules, tunable within each
// rule's bounds by admins and owners; everyone else sees them read-only.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Checkbox } from "@/components/ui/checkbox";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { ActionError } from "./account-actions";
import { failureMessage, sendJson } from "@/lib/api/client";
import { SeverityBadge, formatNumber } from "./labels";
import { healthRulesQuery, useRefreshHealth } from "./queries";
import type { AutoPause, HealthRule, HealthSettings } from "./types";

/** What re-checking the workspace after a change did, as the reply says it (null: it could not re-check now). */
interface Evaluation {
  accountsPaused: number;
  alertsOpened: number;
  alertsResolved: number;
}

const RECHECK_WARNING = "Saving this re-checks every account now; accounts at risk under the new setting are paused.";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "Re-checked every account: …" from the reply, so a save that paused accounts says so. */
function evaluationNote(evaluation: Evaluation | null | undefined): string {
  if (evaluation === undefined) return "";
  if (evaluation === null) return " The accounts could not be re-checked just now; the next scans apply it.";
  return ` Re-checked every account: ${plural(evaluation.accountsPaused, "account", "accounts")} paused, ${plural(
    evaluation.alertsOpened,
    "alert",
    "alerts",
  )} opened, ${plural(evaluation.alertsResolved, "alert", "alerts")} resolved.`;
}

/** Asks before a save that may pause accounts at once. */
function ConfirmRecheck({ label, onConfirm, onCancel, pending }: { label: string; onConfirm: () => void; onCancel: () => void; pending: boolean }) {
  return (
    <div role="alertdialog" aria-label={label} className="grid gap-2 rounded-md border border-destructive/40 p-3 text-sm">
      <p>{RECHECK_WARNING}</p>
      <div className="flex flex-wrap gap-2">
        <Button type="button" size="sm" variant="destructive" disabled={pending} onClick={onConfirm}>
          Save and re-check
        </Button>
        <Button type="button" size="sm" variant="outline" onClick={onCancel}>
          Keep editing
        </Button>
      </div>
    </div>
  );
}

const modes: Record<AutoPause, string> = {
  off: "Off: alerts only, nothing is paused automatically",
  warn: "Warn only: alerts and a warning, nothing is paused",
  pause: "Pause: pause an account when its score falls below the threshold or a critical rule fires",
};

export function HealthSettingsCard({ settings, canTune }: { settings: HealthSettings; canTune: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Health settings</h2>
        </CardTitle>
        <CardDescription>
          {canTune
            ? "What Pacer does when an account's health drops, and how sensitive each rule is (within its bounds)."
            : "Only admins and owners of this workspace can change these; you see them read-only."}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-6">
        <SettingsForm settings={settings} canTune={canTune} />
        <RulesTable canTune={canTune} autoPause={settings.autoPause} />
      </CardContent>
    </Card>
  );
}

function SettingsForm({ settings, canTune }: { settings: HealthSettings; canTune: boolean }) {
  const refresh = useRefreshHealth();
  const [saved, setSaved] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Settings that may pause accounts at once wait here until the person says yes.
  const [asking, setAsking] = useState<HealthSettings | null>(null);
  const save = useMutation({
    mutationFn: (body: HealthSettings) =>
      sendJson<{ settings: HealthSettings; evaluation?: Evaluation | null }>("PUT", "/api/accounts/health/settings", body),
    onSuccess: async (reply) => {
      setError(null);
      setAsking(null);
      setSaved(`Settings saved.${evaluationNote(reply.evaluation)}`);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(null);
    const next: HealthSettings = { autoPause: form.get("autoPause") as AutoPause, pauseBelowScore: Number(form.get("pauseBelowScore")) };
    // Tighter when it switches pausing on, or pauses at a higher score: saving re-checks and may pause now.
    const tighter =
      next.autoPause === "pause" && (settings.autoPause !== "pause" || next.pauseBelowScore > settings.pauseBelowScore);
    if (tighter) setAsking(next);
    else save.mutate(next);
  }
  // Keyed by the saved values so the fields follow changes made elsewhere.
  return (
    <form key={`${settings.autoPause}-${settings.pauseBelowScore}`} onSubmit={submit} className="grid gap-4 sm:grid-cols-[2fr_1fr_auto] sm:items-end" aria-label="Auto-pause settings">
      <div className="grid gap-2">
        <Label htmlFor="health-auto-pause">Auto-pause</Label>
        <NativeSelect id="health-auto-pause" name="autoPause" defaultValue={settings.autoPause} disabled={!canTune}>
          {(Object.keys(modes) as AutoPause[]).map((mode) => (
            <option key={mode} value={mode}>
              {modes[mode]}
            </option>
          ))}
        </NativeSelect>
      </div>
      <div className="grid gap-2">
        <Label htmlFor="health-pause-below">Pause below score</Label>
        <Input
          id="health-pause-below"
          name="pauseBelowScore"
          type="number"
          min={0}
          max={100}
          step={1}
          required
          defaultValue={settings.pauseBelowScore}
          disabled={!canTune}
        />
      </div>
      {canTune && (
        <Button type="submit" disabled={save.isPending}>
          Save settings
        </Button>
      )}
      <div className="grid gap-2 sm:col-span-3">
        {asking && (
          <ConfirmRecheck
            label="Save the auto-pause settings?"
            pending={save.isPending}
            onConfirm={() => save.mutate(asking)}
            onCancel={() => setAsking(null)}
          />
        )}
        {saved && (
          <p role="status" className="text-sm">
            {saved}
          </p>
        )}
        <ActionError message={error} />
      </div>
    </form>
  );
}

function RulesTable({ canTune, autoPause }: { canTune: boolean; autoPause: AutoPause }) {
  const rules = useQuery(healthRulesQuery);
  // What the last save of each rule did; kept here because a saved row remounts with its new values.
  const [notes, setNotes] = useState<Record<string, string>>({});
  if (!rules.data) return <LoadState what="health rules" error={rules.error} />;
  return (
    <section aria-labelledby="health-rules-heading" className="grid gap-3">
      <h3 id="health-rules-heading" className="font-semibold">
        Rules
      </h3>
      <ul className="grid gap-3">
        {rules.data.rules.map((rule) => (
          <RuleRow
            key={`${rule.id}-${rule.threshold}-${rule.enabled}`}
            rule={rule}
            canTune={canTune}
            autoPause={autoPause}
            note={notes[rule.id] ?? null}
            onNote={(note) => setNotes((n) => ({ ...n, [rule.id]: note }))}
          />
        ))}
      </ul>
    </section>
  );
}

function RuleRow({
  rule,
  canTune,
  autoPause,
  note,
  onNote,
}: {
  rule: HealthRule;
  canTune: boolean;
  autoPause: AutoPause;
  note: string | null;
  onNote: (note: string) => void;
}) {
  const refresh = useRefreshHealth();
  const [error, setError] = useState<string | null>(null);
  const [threshold, setThreshold] = useState(String(rule.threshold));
  const [enabled, setEnabled] = useState(rule.enabled);
  const [asking, setAsking] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      sendJson<{ rule: HealthRule; evaluation?: Evaluation | null }>("PUT", `/api/accounts/health/rules/${encodeURIComponent(rule.id)}`, {
        threshold: Number(threshold),
        enabled,
      }),
    onSuccess: async (reply) => {
      setError(null);
      setAsking(false);
      onNote(`Saved.${evaluationNote(reply.evaluation)}`);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const reset = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/accounts/health/rules/${encodeURIComponent(rule.id)}`),
    onSuccess: async () => {
      setError(null);
      onNote("Back to the default.");
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  // Tighter: switched on, or firing sooner ('above' fires at or over the threshold, 'below' at or under).
  // With auto-pause on, saving that re-checks every account and may pause some at once.
  const next = Number(threshold);
  const tighter =
    (enabled && !rule.enabled) ||
    (enabled && (rule.direction === "above" ? next < rule.threshold : next > rule.threshold));
  const fieldId = `rule-${rule.id}-threshold`;
  const boundsId = `rule-${rule.id}-bounds`;
  const unit = rule.unit ? ` ${rule.unit}` : "";
  return (
    <li className="grid gap-3 rounded-lg border p-4" aria-label={rule.name}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{rule.name}</span>
        <SeverityBadge severity={rule.severity} />
        <Badge variant="secondary">−{rule.points} points</Badge>
        {rule.tuned && <Badge variant="outline">Tuned</Badge>}
        {!rule.enabled && <Badge variant="outline">Off</Badge>}
      </div>
      <p className="text-sm text-muted-foreground">{rule.description}</p>
      <form
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          if (tighter && autoPause === "pause") setAsking(true);
          else save.mutate();
        }}
      >
        <div className="grid gap-2">
          <Label htmlFor={fieldId}>Threshold{unit && ` (${rule.unit})`}</Label>
          <Input
            id={fieldId}
            className="w-32"
            type="number"
            step="any"
            min={rule.minThreshold}
            max={rule.maxThreshold}
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
            disabled={!canTune}
            aria-describedby={boundsId}
          />
        </div>
        <label className="flex h-9 items-center gap-2 text-sm">
          <Checkbox checked={enabled} onChange={(e) => setEnabled(e.target.checked)} disabled={!canTune || !rule.canDisable} />
          Enabled
        </label>
        {canTune && (
          <div className="flex flex-wrap gap-2">
            <Button type="submit" size="sm" disabled={save.isPending} aria-label={`Save ${rule.name}`}>
              Save
            </Button>
            {rule.tuned && (
              <Button type="button" size="sm" variant="outline" disabled={reset.isPending} onClick={() => reset.mutate()} aria-label={`Reset ${rule.name} to default`}>
                Reset to default
              </Button>
            )}
          </div>
        )}
      </form>
      <p id={boundsId} className="text-xs text-muted-foreground">
        From {formatNumber(rule.minThreshold)} to {formatNumber(rule.maxThreshold)}
        {unit}; default {formatNumber(rule.defaultThreshold)}
        {unit}
        {rule.canDisable ? "." : ". This rule cannot be turned off."}
      </p>
      {asking && (
        <ConfirmRecheck label={`Save ${rule.name}?`} pending={save.isPending} onConfirm={() => save.mutate()} onCancel={() => setAsking(false)} />
      )}
      {note && (
        <p role="status" className="text-sm">
          {note}
        </p>
      )}
      <ActionError message={error} />
    </li>
  );
}
