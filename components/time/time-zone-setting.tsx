"use client";
// The zone times are entered and shown in, beside a time field: the user's setting, or the browser's
// with an offer to save it, and a way to change it. Any page can place it; useTimeZone() reads it.
import { useId, useState } from "react";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { failureMessage } from "@/lib/api/client";
import { useTimeZone } from "./time-zone";

export function TimeZoneSetting() {
  const id = useId();
  const tz = useTimeZone();
  const [editing, setEditing] = useState(false);
  const [choice, setChoice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const zones = editing ? Intl.supportedValuesOf("timeZone") : [];

  async function save(zone: string) {
    setError(null);
    try {
      await tz.save(zone);
      setEditing(false);
    } catch (e) {
      setError(failureMessage(e));
    }
  }

  return (
    <div className="grid gap-2 text-sm" data-testid="time-zone-setting">
      <p className="text-muted-foreground">
        Times are in <span className="font-medium text-foreground">{tz.timeZone}</span>
        {tz.loading ? "" : tz.saved ? " (your setting)." : " (this browser's zone; not saved as your setting)."}
      </p>
      <div className="flex flex-wrap gap-2">
        {!tz.loading && !tz.saved && (
          <Button type="button" size="sm" variant="outline" disabled={tz.saving} onClick={() => save(tz.browserTimeZone)}>
            Save {tz.browserTimeZone} as my time zone
          </Button>
        )}
        {!editing && (
          <Button
            type="button"
            size="sm"
            variant="ghost"
            onClick={() => {
              setChoice(tz.timeZone);
              setEditing(true);
            }}
          >
            Change time zone
          </Button>
        )}
      </div>
      {editing && (
        <div className="flex flex-wrap items-end gap-2">
          <div className="grid gap-1">
            <Label htmlFor={`${id}-zone`}>Time zone</Label>
            <NativeSelect
              id={`${id}-zone`}
              value={choice}
              onChange={(e) => setChoice(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${id}-error` : undefined}
            >
              {!zones.includes(choice) && <option value={choice}>{choice}</option>}
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </NativeSelect>
          </div>
          <Button type="button" size="sm" disabled={tz.saving} onClick={() => save(choice)}>
            Save time zone
          </Button>
          <Button type="button" size="sm" variant="ghost" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </div>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
