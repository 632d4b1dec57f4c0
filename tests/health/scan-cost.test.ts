// The scan's second cost round (20261202001600_scan_cost_round_two.sql) changed how the audit trigger on
// account updates decides: the columns it audits are compared directly instead of as jsonb. These
// tests hold it to the old condition: a change of the score alone (and the updated_at it moves) is not
// logged, a change of any other column is, and a column added to social_accounts later must be added
// to the trigger's list (the first test fails until it is).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../support/db";
import { account, workspace } from "./helpers";

let sql: Sql;
let ws: Awaited<ReturnType<typeof workspace>>;
beforeAll(async () => {
  sql = connect(2);
  ws = await workspace(sql, "scan-cost");
});
afterAll(() => sql.end());

const updatesLogged = async (id: string) =>
  Number((await sql`select count(*) as n from public.audit_log where entity_id = ${id} and action = 'update'`)[0].n);

describe("the audit of account updates", () => {
  it("compares every column of social_accounts but health_score and updated_at", async () => {
    const columns = (await sql`
      select attname from pg_catalog.pg_attribute
      where attrelid = 'public.social_accounts'::regclass and attnum > 0 and not attisdropped
      order by attnum`).map((r) => r.attname as string);
    const [{ def }] = await sql`
      select pg_catalog.pg_get_triggerdef(t.oid) as def from pg_catalog.pg_trigger t
      where t.tgrelid = 'public.social_accounts'::regclass and t.tgname = 'write_audit_log_update'`;
    const compared = columns.filter((c) => def.includes(`old.${c}`) && def.includes(`new.${c}`));
    expect(columns.filter((c) => !compared.includes(c))).toEqual(["health_score", "updated_at"]);
  });

  it("logs no score-only change and every change of another column", async () => {
    const id = await account(sql, ws.workspaceId);
    await sql`update public.social_accounts set health_score = 55 where id = ${id}`;
    await sql`update public.social_accounts set health_score = 70, updated_at = now() - interval '1 day' where id = ${id}`;
    expect(await updatesLogged(id)).toBe(0);

    const changes = [
      () => sql`update public.social_accounts set display_name = 'Renamed' where id = ${id}`,
      () => sql`update public.social_accounts set last_error = 'boom', health_score = 20 where id = ${id}`,
      () => sql`update public.social_accounts set requires_review = true where id = ${id}`,
      () => sql`update public.social_accounts set cooldown_until = now() + interval '1 hour' where id = ${id}`,
      // The credentials never enter the log, but the change is logged (updated_at moved with them).
      () => sql`update public.social_accounts set credentials_encrypted = 'sealed' where id = ${id}`,
    ];
    for (const [i, change] of changes.entries()) {
      await change();
      expect(await updatesLogged(id)).toBe(i + 1);
    }
    const [last] = await sql`select new_values from public.audit_log where entity_id = ${id} and action = 'update'
                             order by id desc limit 1`;
    expect(last.new_values).not.toHaveProperty("credentials_encrypted");
  });
});
