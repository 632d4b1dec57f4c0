// What the triggers on public.social_accounts cost in the health scan's score write (an UPDATE of
// health_score alone), measured by server CPU time in one database, the variants taking turns.
//
// `npx tsx bench/account-update-triggers.ts`: 10,000 accounts; each round, each variant runs three
// score writes of all of them inside a transaction that is rolled back (so every variant sees the
// same table). Variants: the triggers as migrated; the audit trigger's WHEN as 20261202000300 wrote
// it (two to_jsonb per row); without the audit trigger; without the statement-level pause trigger
// (20261202001400, transition tables). ROUNDS (default 5).
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { settle, startBenchDatabase, workspaceWithAccounts } from "./database.ts";

const log = (line: string) => console.log(`[triggers] ${line}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const variants: Record<string, string> = {
  "as migrated": "",
  "audit WHEN with to_jsonb (20261202000300)": `
    drop trigger write_audit_log_update on public.social_accounts;
    create trigger write_audit_log_update after update on public.social_accounts for each row
      when ((to_jsonb(old) - 'health_score' - 'updated_at') is distinct from (to_jsonb(new) - 'health_score' - 'updated_at'))
      execute function private.write_audit_log();`,
  "without the audit trigger": "drop trigger write_audit_log_update on public.social_accounts;",
  "without wait_for_claims_of_paused_accounts": "drop trigger wait_for_claims_of_paused_accounts on public.social_accounts;",
};

const db = await startBenchDatabase(log);
const one = postgres(db.url, { max: 1, prepare: false, onnotice: () => {} });
try {
  const ids: string[] = [];
  for (let w = 0; w < 10; w++) ids.push(...(await workspaceWithAccounts(db.admin, 1000, `triggers${w}`, "active")).accountIds);
  await settle(db.admin, ["public.social_accounts"]);
  const [{ pid }] = await one`select pg_backend_pid() as pid`;
  const cpu = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  };
  const times: Record<string, number[]> = {};
  const rolledBack = new Error("rolled back");
  for (let round = 0; round < Number(process.env.ROUNDS ?? 5); round++) {
    for (const [name, ddl] of Object.entries(variants)) {
      await one.begin(async (tx) => {
        if (ddl) await tx.unsafe(ddl);
        const c0 = cpu();
        for (let k = 0; k < 3; k++) {
          await tx`update public.social_accounts a set health_score = case when a.health_score = 100 then 90 else 100 end
                   where a.id = any (${ids}::uuid[])`;
        }
        (times[name] ??= []).push(cpu() - c0);
        throw rolledBack;
      }).catch((error) => { if (error !== rolledBack) throw error; });
    }
  }
  const base = median(times["as migrated"]);
  for (const [name, t] of Object.entries(times)) {
    log(`${name}: ${median(t)} ms of server CPU for 30,000 score changes (median; ${(median(t) / base).toFixed(2)} of as migrated)`);
  }
} finally {
  await one.end();
  await db.stop();
}
