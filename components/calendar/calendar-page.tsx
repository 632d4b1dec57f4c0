"use client";
// The calendar page: the workspace's posts by week or month (FullCalendar), filtered by account and
// platform. Dragging a waiting post moves it (the server re-checks it; a refusal puts it back and
// says why); clicking a post, or its row in the list below, opens it to edit, move or cancel.
import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import FullCalendar from "@fullcalendar/react";
import dayGridPlugin from "@fullcalendar/daygrid";
import timeGridPlugin from "@fullcalendar/timegrid";
import interactionPlugin from "@fullcalendar/interaction";
import type { DatesSetArg, EventClickArg, EventContentArg, EventDropArg, EventInput } from "@fullcalendar/core";
import { CircleAlert, CircleCheck } from "lucide-react";
import { accountsQuery } from "@/components/accounts/queries";
import { platformName } from "@/components/accounts/platforms";
import { statusStyle, statusStyles } from "@/components/queue/statuses";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { useTimeZone } from "@/components/time/time-zone";
import { When } from "@/components/time/when";
import { shortTime } from "@/lib/time/relative";
import { isPastSchedule, pastChoiceMessage } from "@/lib/time/schedule";
import { TimeZoneSetting } from "@/components/time/time-zone-setting";
import { failureMessage } from "@/lib/api/client";
import type { CalendarItem } from "@/lib/calendar/types";
import type { QueueStatus } from "@/lib/queue/types";
import { instantOfWallClock, instantOfWallTime, wallClockAt } from "@/lib/time/wall-time";
import { statusColours } from "./colours";
import { ItemDialog } from "./item-dialog";
import { calendarQuery, rescheduleItem, useRefreshCalendar } from "./queries";

type Message = { kind: "error" | "done"; text: string };

export function CalendarPage() {
  const accounts = useQuery(accountsQuery);
  const { timeZone, loading: zoneLoading } = useTimeZone();
  // The view's edges as FullCalendar gives them (wall clock, see below); read as instants in the
  // user's zone here, so a zone that arrives or changes later asks for the right range.
  const [view, setView] = useState<{ start: Date; end: Date } | null>(null);
  const range = view && { from: instantOfWallClock(view.start, timeZone).toISOString(), to: instantOfWallClock(view.end, timeZone).toISOString() };
  const [accountId, setAccountId] = useState("");
  const [platform, setPlatform] = useState("");
  const [opened, setOpened] = useState<CalendarItem | null>(null);
  const [message, setMessage] = useState<Message | null>(null);
  const refresh = useRefreshCalendar();

  const calendar = useQuery({
    ...calendarQuery({ from: range?.from ?? "", to: range?.to ?? "", accountId: accountId || undefined, platform: platform || undefined }),
    enabled: range !== null && !zoneLoading,
  });
  const items = useMemo(() => calendar.data?.items ?? [], [calendar.data]);
  // The latest copy of the open item; the one opened while a move takes it out of this view.
  const selected = opened ? (items.find((i) => i.id === opened.id) ?? opened) : null;
  const open = (id: number) => setOpened(items.find((i) => i.id === id) ?? null);
  const platforms = [...new Set((accounts.data?.accounts ?? []).map((a) => a.platform))].sort();

  const events = useMemo<EventInput[]>(
    () =>
      items.map((item) => {
        const colours = statusColours[item.status];
        return {
          id: String(item.id),
          // FullCalendar runs in UTC and is given the wall clock in the user's zone (lib/time/wall-time.ts).
          start: wallClockAt(item.at, timeZone),
          title: `@${item.handle}: ${item.text}`,
          startEditable: item.reschedulable,
          backgroundColor: colours.background,
          borderColor: colours.border,
          textColor: colours.text,
          extendedProps: { item },
        };
      }),
    [items, timeZone],
  );

  function onDatesSet(arg: DatesSetArg) {
    if (view?.start.getTime() !== arg.start.getTime() || view?.end.getTime() !== arg.end.getTime()) setView({ start: arg.start, end: arg.end });
  }

  async function onEventDrop(info: EventDropArg) {
    const item = info.event.extendedProps.item as CalendarItem;
    // Read as the composer reads a typed time: a time the clocks skip is refused, not guessed at.
    const at = instantOfWallTime(info.event.start!.toISOString().slice(0, 16), timeZone);
    setMessage(null);
    if (!at.ok) {
      info.revert();
      setMessage({ kind: "error", text: `@${item.handle}'s post was not moved: ${at.message}` });
      return;
    }
    // The API's rule (lib/time/schedule.ts), said before asking: the post goes back where it was.
    if (isPastSchedule(at.instant)) {
      info.revert();
      setMessage({ kind: "error", text: `@${item.handle}'s post was not moved: ${pastChoiceMessage(at.instant, timeZone)} Drop it on a later time.` });
      return;
    }
    try {
      const { items: moved } = await rescheduleItem(item.id, at.instant);
      setMessage({ kind: "done", text: `Moved @${item.handle}'s post to ${shortTime(moved[0].scheduledFor, timeZone)}.` });
    } catch (error) {
      info.revert();
      setMessage({ kind: "error", text: `@${item.handle}'s post was not moved: ${failureMessage(error)}` });
    }
    await refresh();
  }

  return (
    <div className="grid grid-cols-1 gap-6">
      <div className="flex flex-wrap items-end gap-4">
        <div className="grid gap-1">
          <Label htmlFor="calendar-account">Account</Label>
          <NativeSelect id="calendar-account" value={accountId} onChange={(e) => setAccountId(e.target.value)} className="w-56">
            <option value="">All accounts</option>
            {(accounts.data?.accounts ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                @{a.handle} ({platformName(a.platform)})
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="grid gap-1">
          <Label htmlFor="calendar-platform">Platform</Label>
          <NativeSelect id="calendar-platform" value={platform} onChange={(e) => setPlatform(e.target.value)} className="w-44">
            <option value="">All platforms</option>
            {platforms.map((p) => (
              <option key={p} value={p}>
                {platformName(p)}
              </option>
            ))}
          </NativeSelect>
        </div>
        <TimeZoneSetting />
      </div>

      <Legend />

      <div aria-live="polite">
        {message && (
          <Alert variant={message.kind === "error" ? "destructive" : "default"} role={message.kind === "error" ? "alert" : "status"}>
            {message.kind === "error" ? <CircleAlert aria-hidden /> : <CircleCheck aria-hidden />}
            <AlertDescription>{message.text}</AlertDescription>
          </Alert>
        )}
        {calendar.data?.notice && (
          <Alert role="status">
            <CircleAlert aria-hidden />
            <AlertDescription>{calendar.data.notice}</AlertDescription>
          </Alert>
        )}
        {calendar.error && <LoadState what="the calendar" error={calendar.error} />}
      </div>

      {/* The toolbar (Previous, Next, Today, the title, Week, Month) wraps on a phone instead of widening the page. */}
      <div className="rounded-lg border bg-card p-3 text-sm [&_.fc-event]:cursor-pointer [&_.fc-header-toolbar]:flex-wrap [&_.fc-header-toolbar]:gap-2">
        {/* Not drawn until the user's saved zone is known, so "today" and every time start in it. */}
        {zoneLoading ? (
          <LoadState what="your time zone" error={null} />
        ) : (
          <FullCalendar
            plugins={[dayGridPlugin, timeGridPlugin, interactionPlugin]}
            initialView="timeGridWeek"
            headerToolbar={{ left: "prev,next today", center: "title", right: "timeGridWeek,dayGridMonth" }}
            // Words, not FullCalendar's icon font: the font is a data: URL, which the CSP's font-src does not allow.
            buttonIcons={false}
            buttonText={{ prev: "‹ Previous", next: "Next ›", today: "Today", week: "Week", month: "Month" }}
            eventTimeFormat={{ hour: "numeric", minute: "2-digit", meridiem: "short" }}
            timeZone="UTC"
            now={() => wallClockAt(new Date(), timeZone)}
            height="auto"
            allDaySlot={false}
            nowIndicator
            editable
            eventDurationEditable={false}
            eventDisplay="block"
            displayEventEnd={false}
            defaultTimedEventDuration="00:30"
            scrollTime="08:00:00"
            events={events}
            datesSet={onDatesSet}
            eventDrop={onEventDrop}
            eventClick={(info: EventClickArg) => {
              info.jsEvent.preventDefault();
              open(Number(info.event.id));
            }}
            eventContent={(arg: EventContentArg) => <EventLabel arg={arg} />}
            eventDidMount={(arg) => {
              const item = arg.event.extendedProps.item as CalendarItem;
              arg.el.setAttribute("aria-label", describe(item, timeZone));
              arg.el.dataset.itemId = String(item.id);
            }}
          />
        )}
      </div>

      <Card>
        <CardHeader>
          <CardTitle>
            <h2>Posts in this view</h2>
          </CardTitle>
          <CardDescription>The same posts as a list, earliest first: open one to edit, move or cancel it.</CardDescription>
        </CardHeader>
        <CardContent>
          {calendar.data ? <ItemList items={items} open={open} timeZone={timeZone} /> : <LoadState what="the posts in this view" error={calendar.error} />}
        </CardContent>
      </Card>

      <ItemDialog item={selected} timeZone={timeZone} onClose={() => setOpened(null)} />
    </div>
  );
}

const describe = (item: CalendarItem, timeZone: string) =>
  `${statusStyle(item.status).label}: @${item.handle} at ${shortTime(item.at, timeZone)}, ${item.text}${item.reschedulable ? " (can be moved)" : ""}`;

function EventLabel({ arg }: { arg: EventContentArg }) {
  const item = arg.event.extendedProps.item as CalendarItem;
  return (
    <div className="overflow-hidden px-1 text-xs leading-tight">
      <span className="font-semibold">{arg.timeText}</span> <span className="uppercase">{statusStyle(item.status).label}</span>{" "}
      <span>@{item.handle}</span>
      <div className="truncate">{item.text}</div>
    </div>
  );
}

function Legend() {
  return (
    <ul className="flex flex-wrap gap-2 text-xs" aria-label="Status colours">
      {(Object.keys(statusStyles) as QueueStatus[]).map((s) => (
        <li
          key={s}
          className="rounded border px-2 py-0.5"
          style={{ background: statusColours[s].background, borderColor: statusColours[s].border, color: statusColours[s].text }}
        >
          {statusStyles[s].label}
        </li>
      ))}
    </ul>
  );
}

function ItemList({ items, open, timeZone }: { items: CalendarItem[]; open: (id: number) => void; timeZone: string }) {
  if (items.length === 0) {
    return <p className="text-sm text-muted-foreground">No posts in this view. Queue one on the Queue page, or look at another week or month.</p>;
  }
  return (
    <Table data-cards aria-label="Posts in this view">
      <TableHeader>
        <TableRow>
          <TableHead>When ({timeZone})</TableHead>
          <TableHead>Status</TableHead>
          <TableHead>Account</TableHead>
          <TableHead>Post</TableHead>
          <TableHead>
            <span className="sr-only">Actions</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {items.map((item) => {
          const status = statusStyle(item.status);
          return (
            <TableRow key={item.id}>
              <TableCell data-label={`When (${timeZone})`}>
                <When at={item.at} />
              </TableCell>
              <TableCell data-label="Status">
                <Badge variant="outline" className={status.className}>
                  {status.label}
                </Badge>
              </TableCell>
              <TableCell data-label="Account">@{item.handle}</TableCell>
              {/* Wraps to two lines so the table fits at desktop width; Open shows the whole text. */}
              <TableCell data-label="Post" className="min-w-48 whitespace-normal">
                <span className="line-clamp-2 wrap-anywhere">{item.text}</span>
              </TableCell>
              <TableCell>
                <Button type="button" variant="outline" size="sm" onClick={() => open(item.id)} aria-label={`Open #${item.id} to @${item.handle}`}>
                  Open
                </Button>
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
