// A user's settings: their time zone, read and saved through GET/PUT /api/me/settings; an unknown
// zone is refused by the API and by the database; nobody else can read or change the row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as settingsRoute from "@/app/api/me/settings/route";
import { asUser, connect, errorOf, type Sql } from "../support/db";
import { signUp, type TestUser } from "../support/users";
import { call } from "./support";

let sql: Sql;
let alice: TestUser;
let bob: TestUser;

beforeAll(async () => {
  sql = connect();
  [alice, bob] = await Promise.all([signUp("settings-alice"), signUp("settings-bob")]);
});
afterAll(() => sql.end());

describe("GET/PUT /api/me/settings", () => {
  it("has no time zone until one is saved, then returns the saved one", async () => {
    const before = await call(settingsRoute.GET, alice, "/api/me/settings");
    expect(before.status).toBe(200);
    expect(await before.json()).toEqual({ timeZone: null, updatedAt: null });

    const put = await call(settingsRoute.PUT, alice, "/api/me/settings", { method: "PUT", body: { timeZone: "Asia/Tokyo" } });
    expect(put.status).toBe(200);
    expect((await put.json()).timeZone).toBe("Asia/Tokyo");
    const changed = await call(settingsRoute.PUT, alice, "/api/me/settings", { method: "PUT", body: { timeZone: "Europe/Paris" } });
    expect(changed.status).toBe(200);

    const after = await call(settingsRoute.GET, alice, "/api/me/settings");
    expect((await after.json()).timeZone).toBe("Europe/Paris");
  });

  it("refuses an unknown zone on the timeZone field, and keeps the saved one", async () => {
    const res = await call(settingsRoute.PUT, alice, "/api/me/settings", { method: "PUT", body: { timeZone: "Mars/Olympus_Mons" } });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.issues).toEqual([
      { path: "timeZone", message: "Unknown time zone: use an IANA name such as Europe/Paris, America/New_York or UTC." },
    ]);
    expect((await (await call(settingsRoute.GET, alice, "/api/me/settings")).json()).timeZone).toBe("Europe/Paris");
  });

  it("answers 401 without a session", async () => {
    expect((await call(settingsRoute.GET, null, "/api/me/settings")).status).toBe(401);
  });
});

describe("public.user_settings in the database", () => {
  it("refuses a zone Postgres does not know, even from a direct insert", async () => {
    await asUser(sql, bob.id, async (tx) => {
      const err = await errorOf(tx, (sp) => sp`insert into public.user_settings (time_zone) values ('Mars/Olympus_Mons')`);
      expect(err?.code).toBe("22023");
      expect(err?.message).toBe('Unknown time zone "Mars/Olympus_Mons".');
      const ok = await tx`insert into public.user_settings (time_zone) values ('America/New_York') returning user_id`;
      expect(ok[0].user_id).toBe(bob.id);
    });
  });

  it("lets another user neither read, change, take over nor delete a user's row", async () => {
    await asUser(sql, bob.id, async (tx) => {
      expect(await tx`select * from public.user_settings where user_id = ${alice.id}`).toHaveLength(0);
      expect(await tx`select * from public.user_settings`).toHaveLength(0);
      expect(await tx`update public.user_settings set time_zone = 'UTC' where user_id = ${alice.id} returning 1`).toHaveLength(0);
      expect(await tx`delete from public.user_settings where user_id = ${alice.id} returning 1`).toHaveLength(0);
      const insert = await errorOf(tx, (sp) => sp`insert into public.user_settings (user_id, time_zone) values (${alice.id}, 'UTC')`);
      expect(insert?.message).toMatch(/row-level security|duplicate key/);
      const move = await errorOf(tx, (sp) => sp`update public.user_settings set user_id = ${alice.id}`);
      expect(move?.message).toMatch(/permission denied/);
    });
    const [row] = await sql`select time_zone from public.user_settings where user_id = ${alice.id}`;
    expect(row.time_zone).toBe("Europe/Paris");
  });

  it("shows a user their own row, so the isolation above is not an empty table", async () => {
    await asUser(sql, alice.id, async (tx) => {
      expect((await tx`select time_zone from public.user_settings`).map((r) => r.time_zone)).toEqual(["Europe/Paris"]);
    });
  });
});
