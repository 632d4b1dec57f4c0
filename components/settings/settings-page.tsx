"use client";
// The user's settings: the time zone every page shows times in and reads typed times in (schedule
// fields, the calendar, CSV rows without a zone). The setting itself is components/time/time-zone-setting.tsx.
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { TimeZoneSetting } from "@/components/time/time-zone-setting";

export function SettingsPage() {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Time zone</h2>
        </CardTitle>
        <CardDescription>
          Schedules you type, the calendar and every time Pacer shows are in this zone. Until you save one, it is this browser&apos;s.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-3">
        <TimeZoneSetting />
        <p className="text-sm text-muted-foreground">Tap or press a time anywhere in Pacer to see it in full, with seconds and the zone&apos;s name.</p>
      </CardContent>
    </Card>
  );
}
