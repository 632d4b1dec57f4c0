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
import { failureMessage, sendJson } from "./api";
import { SeverityBadge, formatNumber } from "./labels";
import { healthRulesQuery, useRefreshHealth } from "./queries";
import type { AutoPause, HealthRule, HealthSettings } from "./types";

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
        <RulesTable canTune={canTune} />
      </CardContent>
    </Card>
  );
}

function SettingsForm({ settings, canTune }: { settings: HealthSettings; canTune: boolean }) {
  const refresh = useRefreshHealth();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: Partial<HealthSettings>) => sendJson<{ settings: HealthSettings }>("PUT", "/api/accounts/health/settings", body),
    onSuccess: async () => {
      setError(null);
      setSaved(true);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setSaved(false);
    save.mutate({ autoPause: form.get("autoPause") as AutoPause, pauseBelowScore: Number(form.get("pauseBelowScore")) });
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
      <div className="sm:col-span-3">
        {saved && (
          <p role="status" className="text-sm">
            Settings saved.
          </p>
        )}
        <ActionError message={error} />
      </div>
    </form>
  );
}

function RulesTable({ canTune }: { canTune: boolean }) {
  const rules = useQuery(healthRulesQuery);
  if (!rules.data) return <LoadState what="health rules" error={rules.error} />;
  return (
    <section aria-labelledby="health-rules-heading" className="grid gap-3">
      <h3 id="health-rules-heading" className="font-semibold">
        Rules
      </h3>
      <ul className="grid gap-3">
        {rules.data.rules.map((rule) => (
          <RuleRow key={`${rule.id}-${rule.threshold}-${rule.enabled}`} rule={rule} canTune={canTune} />
        ))}
      </ul>
    </section>
  );
}

function RuleRow({ rule, canTune }: { rule: HealthRule; canTune: boolean }) {
  const refresh = useRefreshHealth();
  const [error, setError] = useState<string | null>(null);
  const [threshold, setThreshold] = useState(String(rule.threshold));
  const [enabled, setEnabled] = useState(rule.enabled);
  const save = useMutation({
    mutationFn: () =>
      sendJson("PUT", `/api/accounts/health/rules/${encodeURIComponent(rule.id)}`, { threshold: Number(threshold), enabled }),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  const reset = useMutation({
    mutationFn: () => sendJson("DELETE", `/api/accounts/health/rules/${encodeURIComponent(rule.id)}`),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
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
          save.mutate();
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
      <ActionError message={error} />
    </li>
  );
}
