// Rate-limit arithmetic on a fake clock: when an account may act next, from its persisted ledger.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { connect, type Sql } from "../support/db";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const T0 = new Date("2026-11-24T12:00:00Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** An account whose ledger holds attempts at the given minutes after T0. */
async function ledger(minutes: number[]) {
  const account = randomUUID();
  for (const m of minutes) {
    await sql`insert into private.rate_limit_ledger (account_id, action, at) values (${account}, 'post', ${at(m)})`;
  }
  return account;
}

/** private.next_allowed_at with the usage it would have counted at `now`. */
async function nextAllowed(
  account: string,
  now: Date,
  limits: { perHour: number; perDay: number; gapMs: number },
  opts: { granted?: number; state?: string; cooldownUntil?: Date | null } = {},
) {
  const [u] = await sql`
    select count(*) filter (where at > ${now}::timestamptz - interval '1 hour')::int as hour,
           count(*)::int as day, max(at) as last
    from private.rate_limit_ledger
    where account_id = ${account} and action = 'post' and at > ${now}::timestamptz - interval '1 day' and at <= ${now}`;
  const [r] = await sql`
    select n as next, not isfinite(n) as never from private.next_allowed_at(${account}, 'post',
      ${opts.state ?? "active"}::public.account_state, ${opts.cooldownUntil ?? null}, ${limits.perHour},
      ${limits.perDay}, ${limits.gapMs}, ${u.hour}, ${u.day}, ${u.last}, ${opts.granted ?? 0}, ${now}) as n`;
  return r.never ? "never" : (r.next as Date);
}

describe("when an account may next publish", () => {
  it("is after the minimum gap since its last attempt", async () => {
    const account = await ledger([0]);
    expect(await nextAllowed(account, at(1), { perHour: 10, perDay: 50, gapMs: 5 * 60_000 })).toEqual(at(5));
  });

  it("is when the oldest attempt of a full hour ages out", async () => {
    const account = await ledger([0, 10, 20]);
    expect(await nextAllowed(account, at(30), { perHour: 3, perDay: 50, gapMs: 0 })).toEqual(at(60));
  });

  it("counts what this claim just granted: a window filled now opens an hour after its oldest needed entry", async () => {
    const account = await ledger([0, 10]);
    // Two used, one granted now (minute 30), cap 3: the hour is full until minute 0 ages out.
    expect(await nextAllowed(account, at(30), { perHour: 3, perDay: 50, gapMs: 0 }, { granted: 1 })).toEqual(at(60));
    // Cap 2 with one granted now: the second-oldest (minute 10) must age out.
    expect(await nextAllowed(account, at(30), { perHour: 2, perDay: 50, gapMs: 0 }, { granted: 1 })).toEqual(at(70));
  });

  it("is when the day's oldest attempt ages out once the daily cap is reached", async () => {
    const account = await ledger([0, 120, 240]);
    expect(await nextAllowed(account, at(300), { perHour: 10, perDay: 3, gapMs: 0 })).toEqual(at(24 * 60));
  });

  it("takes the latest of gap, hourly and daily limits, and a cooldown", async () => {
    const account = await ledger([0, 50]);
    const limits = { perHour: 2, perDay: 50, gapMs: 20 * 60_000 };
    expect(await nextAllowed(account, at(55), limits)).toEqual(at(70)); // gap 50+20 = 70 > hour 0+60
    expect(await nextAllowed(account, at(55), limits, { cooldownUntil: at(90) })).toEqual(at(90));
  });

  it("is never for an account that cannot publish, until it is resumed", async () => {
    const account = await ledger([]);
    for (const state of ["paused", "restricted", "needs_reconnect", "needs_review"]) {
      const next = await nextAllowed(account, at(0), { perHour: 10, perDay: 50, gapMs: 0 }, { state });
      expect(next, state).toBe("never");
    }
  });

  it("ignores attempts older than a day", async () => {
    const account = await ledger([-2000, -1500]);
    expect(await nextAllowed(account, at(0), { perHour: 1, perDay: 1, gapMs: 60_000 })).toEqual(at(0));
  });
});

describe("when an account has room for a thread (each of its posts counts)", () => {
  /** The form that takes what the next item needs (private.next_allowed_at with p_need). */
  async function roomFor(account: string, now: Date, perHour: number, need: number, granted = 0) {
    const [u] = await sql`
      select count(*) filter (where at > ${now}::timestamptz - interval '1 hour')::int as hour, count(*)::int as day, max(at) as last
      from private.rate_limit_ledger where account_id = ${account} and action = 'post' and at <= ${now}`;
    const [r] = await sql`
      select private.next_allowed_at(${account}, 'post', 'active'::public.account_state, null, ${perHour}, 1000, 0,
        ${u.hour}, ${u.day}, ${u.last}, ${granted}, ${need}, ${now}) as n`;
    return r.n as Date;
  }

  it("waits until as many entries have aged out as the thread has posts beyond what is left", async () => {
    const account = await ledger([0, 10, 20]);
    // 5 an hour, 3 used: a 2-part thread fits now; a 3-part one once minute 0 ages out; a 4-part one once minute 10 does.
    expect(await roomFor(account, at(30), 5, 2)).toEqual(at(30));
    expect(await roomFor(account, at(30), 5, 3)).toEqual(at(60));
    expect(await roomFor(account, at(30), 5, 4)).toEqual(at(70));
    // With 2 more granted by this claim (at minute 30), a 2-part thread needs minutes 0 and 10 gone.
    expect(await roomFor(account, at(30), 5, 2, 2)).toEqual(at(70));
  });
});
