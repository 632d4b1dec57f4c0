// Invokes the edge functions listed in private.scheduled_functions on their intervals, as pg_cron +
// pg_net do on Supabase, for a local database that has neither.
import postgres from "postgres";

export interface Scheduler {
  stop(): Promise<void>;
}

interface Row {
  function_name: string;
  every_seconds: number;
  enabled: boolean;
  database_invokes: boolean;
}

export function startScheduler(opts: {
  dbUrl: string;
  invoke: (name: string) => Promise<Response>;
  log: (line: string) => void;
  tickMs?: number;
}): Scheduler {
  const tickMs = opts.tickMs ?? 1000;
  const sql = postgres(opts.dbUrl, { max: 1, prepare: false, onnotice: () => {}, idle_timeout: 60 });
  /** When each function was last started, by this process only (pg_cron's own state is not ours). */
  const lastRun = new Map<string, number>();
  const running = new Set<string>();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let currentTick: Promise<void> = Promise.resolve();
  let lastError = "";
  let standingDown = false;

  async function invoke(name: string) {
    running.add(name);
    const started = Date.now();
    let status: number | null = null;
    let failure: string | null = null;
    try {
      const res = await opts.invoke(name);
      status = res.status;
      const body = await res.text(); // always drained, so the connection is freed
      if (!res.ok && !stopped) opts.log(`scheduler: ${name} answered ${res.status}: ${body.slice(0, 500)}`);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      if (!stopped) opts.log(`scheduler: invoking ${name} failed: ${failure}`);
    } finally {
      running.delete(name);
    }
    // Every call is recorded, as the cron job and pg_net record it on Supabase: the operator's
    // warnings (private.scheduler_warnings) are read from these rows.
    try {
      await sql`select private.record_scheduled_call(${name}, ${status}, ${failure}, ${Date.now() - started})`;
      const failed = status === null || status < 200 || status > 299;
      if (failed && !stopped) {
        const [warning] = await sql<{ message: string }[]>`
          select message from private.scheduler_warnings() where function_name = ${name} limit 1`;
        if (warning) opts.log(`scheduler: WARNING ${warning.message}`);
      }
    } catch (error) {
      if (!stopped) opts.log(`scheduler: recording the call of ${name} failed: ${error instanceof Error ? error.message : error}`);
    }
  }

  async function tick() {
    let rows: Row[];
    try {
      rows = await sql<Row[]>`
        select function_name, every_seconds, enabled,
               (select private.database_invokes_scheduled_functions()) as database_invokes
          from private.scheduled_functions`;
      if (lastError) opts.log("scheduler: reading private.scheduled_functions works again");
      lastError = "";
    } catch (error) {
      // Logged once per distinct error: a missing table or a stopped database would flood the log.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError) opts.log(`scheduler: reading private.scheduled_functions failed: ${message}`);
      lastError = message;
      return;
    }

    // Where pg_cron + pg_net run in the database, they already invoke these: don't double up.
    const databaseInvokes = rows.some((r) => r.database_invokes);
    if (databaseInvokes !== standingDown) {
      standingDown = databaseInvokes;
      opts.log(
        standingDown
          ? "scheduler: pg_cron and pg_net are installed, they invoke scheduled functions; standing down"
          : "scheduler: invoking scheduled functions",
      );
    }
    if (standingDown) return;

    const now = Date.now();
    const enabled = new Set<string>();
    for (const row of rows) {
      if (!row.enabled) continue;
      enabled.add(row.function_name);
      const last = lastRun.get(row.function_name);
      // First seen: the first run comes one interval later, as pg_cron's first run comes at the
      // next schedule point, not when the job is created; a dev-server restart doesn't fire everything.
      if (last === undefined) {
        lastRun.set(row.function_name, now);
        continue;
      }
      // Intervals count from the start of the previous run (fixed rate, like cron); a run still in
      // progress is never overlapped, and one that overran starts again on the next tick.
      if (now - last < row.every_seconds * 1000 || running.has(row.function_name)) continue;
      lastRun.set(row.function_name, now);
      void invoke(row.function_name);
    }
    // Forget removed or disabled ones, so re-enabling waits a full interval again.
    for (const name of lastRun.keys()) if (!enabled.has(name)) lastRun.delete(name);
  }

  function schedule() {
    timer = setTimeout(() => {
      currentTick = tick().finally(() => {
        if (!stopped) schedule();
      });
    }, tickMs);
  }

  // The first tick reads the table right away (it only records first sightings).
  currentTick = tick().finally(() => {
    if (!stopped) schedule();
  });

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await currentTick;
      // Invocations in flight are left to finish or fail on their own: one may run for minutes.
      await sql.end({ timeout: 5 });
    },
  };
}
