import { it } from "vitest";
import { connect } from "../support/db";
it("dump", async () => {
  const sql = connect();
  const t = await sql`select table_name, string_agg(privilege_type, ',' order by privilege_type) p from information_schema.role_table_grants where grantee='authenticated' and table_schema='public' group by 1 order by 1`;
  console.log(t.map(r=>`${r.table_name}: ${r.p}`).join("\n"));
  const c = await sql`select table_name, privilege_type, string_agg(column_name, ',' order by column_name) cols from information_schema.column_privileges where grantee='authenticated' and table_schema='public' and privilege_type<>'SELECT' group by 1,2 order by 1,2`;
  console.log(c.map(r=>`${r.table_name} ${r.privilege_type}: ${r.cols}`).join("\n"));
  const tr = await sql`select event_object_table t, trigger_name, string_agg(event_manipulation, ',') e from information_schema.triggers where event_object_schema='public' group by 1,2 order by 1,2`;
  console.log(tr.map(r=>`${r.t}: ${r.trigger_name} ${r.e}`).join("\n"));
  const f = await sql`select p.oid::regprocedure::text f from pg_proc p join pg_namespace n on n.oid=p.pronamespace where n.nspname in ('public','private') and has_function_privilege('authenticated', p.oid, 'execute') order by 1`;
  console.log(f.map(r=>r.f).join("\n"));
  await sql.end();
});
