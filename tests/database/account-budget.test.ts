// One budget rule (private.account_budget): what the claim may send an account now (`room`) and when
// the account next has room (`next_at`, private.next_allowed_at) are two readings of the same gates
// and windows, so they can never disagree: room >= need exactly when next_at is now.
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

/** A small deterministic generator, so a failing case can be reproduced from its seed. */
function rng(seed: number) {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

describe("an account's budget (private.account_budget)", () => {
  it("has room for a need exactly when next_allowed_at says now, over varied ledgers, limits, gates and grants", async () => {
    const pick = rng(14);
    const states = ["active", "connected", "paused", "restricted"];
    let checked = 0;
    for (let c = 0; c < 40; c++) {
      const account = randomUUID();
      // Up to 12 attempts in the last 26 hours (some older than a day, ignored by both readings).
      const minutes = Array.from({ length: pick(13) }, () => -pick(26 * 60));
      for (const m of minutes) await sql`insert into private.rate_limit_ledger (account_id, action, at) values (${account}, 'post', ${at(m)})`;
      const perHour = 1 + pick(6);
      const perDay = perHour + pick(10);
      const gapMs = pick(3) === 0 ? pick(30) * 60_000 : 0;
      const cooldown = pick(4) === 0 ? at(pick(40) - 20) : null;
      const state = states[pick(5) % states.length];
      const granted = pick(3);
      const perHourOrNone = pick(10) === 0 ? null : perHour;
      const [u] = await sql`
        select count(*) filter (where at > ${at(0)}::timestamptz - interval '1 hour')::int as hour, count(*)::int as day, max(at) as last
        from private.rate_limit_ledger where account_id = ${account} and action = 'post' and at > ${at(0)}::timestamptz - interval '1 day'`;
      for (let need = 1; need <= 3; need++) {
        const [r] = await sql`
          select x.room, x.next = ${at(0)}::timestamptz as now, x.next >= ${at(0)}::timestamptz as not_before, x.next::text as next
          from (select b.room, private.next_allowed_at(${account}, 'post', ${state}::public.account_state, ${cooldown}, ${perHourOrNone},
                   ${perDay}, ${gapMs}, ${u.hour}, ${u.day}, ${u.last}, ${granted}, ${need}, ${at(0)}) as next
          from private.account_budget(${account}, 'post', ${state}::public.account_state, ${cooldown}, ${perHourOrNone},
                 ${perDay}, ${gapMs}, ${u.hour}, ${u.day}, ${u.last}, ${granted}, ${need}, ${at(0)}) b) x`;
        const label = JSON.stringify({ c, minutes, perHour: perHourOrNone, perDay, gapMs, cooldown, state, granted, need, room: r.room, next: r.next });
        expect(r.room >= need, label).toBe(r.now);
        expect(r.not_before, label).toBe(true);
        checked++;
      }
    }
    expect(checked).toBe(120);
  });

  it("gives the room the claim used: what is left of the hour and the day, none while a gate is closed", async () => {
    const account = randomUUID();
    for (const m of [-30, -20, -5]) await sql`insert into private.rate_limit_ledger (account_id, action, at) values (${account}, 'post', ${at(m)})`;
    const room = async (opts: { perHour: number; perDay: number; gapMs?: number; cooldown?: Date | null; state?: string; granted?: number }) => {
      const [r] = await sql`
        select b.room from private.account_budget(${account}, 'post', ${opts.state ?? "active"}::public.account_state,
          ${opts.cooldown ?? null}, ${opts.perHour}, ${opts.perDay}, ${opts.gapMs ?? 0}, 3, 3, ${at(-5)}, ${opts.granted ?? 0}, 1, ${at(0)}) b`;
      return r.room as number;
    };
    expect(await room({ perHour: 10, perDay: 50 })).toBe(7);
    expect(await room({ perHour: 10, perDay: 5 })).toBe(2);
    expect(await room({ perHour: 10, perDay: 50, granted: 4 })).toBe(3);
    expect(await room({ perHour: 2, perDay: 50 })).toBe(0);
    expect(await room({ perHour: 10, perDay: 50, gapMs: 10 * 60_000 })).toBe(0); // last at -5, 10 min apart
    expect(await room({ perHour: 10, perDay: 50, gapMs: 4 * 60_000 })).toBe(7);
    expect(await room({ perHour: 10, perDay: 50, cooldown: at(1) })).toBe(0);
    expect(await room({ perHour: 10, perDay: 50, state: "paused" })).toBe(0);
  });
});
