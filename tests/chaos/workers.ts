// Queue workers as real processes (`local/worker.ts`), so the chaos test can SIGKILL one mid-attempt
// and start it again the way a supervisor would; each keeps the tail of its output for diagnosis.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const ROOT = join(import.meta.dirname, "..", "..");
const GUARD = pathToFileURL(join(import.meta.dirname, "exit-with-parent.mjs")).href;

interface Slot {
  name: string;
  incarnation: number;
  child: ChildProcess | null;
  exited: Promise<void>;
  /** Set when we signal it, so an exit of its own can be told apart. */
  signalled: boolean;
}

/** A worker that exited without being told to: how, and what it said last. */
export interface Crash {
  worker: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  lastLines: string[];
}

export class WorkerFleet {
  private readonly slots: Slot[];
  private readonly tail: string[] = [];
  kills = 0;
  starts = 0;
  readonly crashes: Crash[] = [];
  private stopping = false;

  constructor(
    size: number,
    private readonly env: Record<string, string>,
  ) {
    this.slots = Array.from({ length: size }, (_, i) => ({ name: `chaos-w${i + 1}`, incarnation: 0, child: null, exited: Promise.resolve(), signalled: false }));
  }

  startAll(): void {
    for (const slot of this.slots) this.start(slot);
  }

  /** SIGKILL one worker (no chance to finish or record anything) and start it again at once. */
  async killAndRestart(index: number): Promise<void> {
    const slot = this.slots[index % this.slots.length];
    if (slot.child && slot.child.exitCode === null && slot.child.signalCode === null) {
      slot.signalled = true;
      slot.child.kill("SIGKILL");
      this.kills++;
      await slot.exited;
    }
    this.start(slot);
  }

  /** SIGTERM every worker (each finishes and records what it has in flight), SIGKILL stragglers. */
  async stopAll(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        slot.signalled = true;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await slot.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** The last lines the workers printed, newest last. */
  output(): string {
    return this.tail.join("\n");
  }

  private start(slot: Slot): void {
    slot.incarnation++;
    this.starts++;
    const id = `${slot.name}.${slot.incarnation}`;
    const child = spawn(process.execPath, ["--import", "tsx", "--import", GUARD, "local/worker.ts"], {
      cwd: ROOT,
      // The health scan stays off here: the chaos test measures publishing, and health's auto-pause
      // would hold accounts its operator does not know to resume (tests/health covers pausing).
      env: { ...process.env, ...this.env, PACER_WORKER_ID: id, PACER_SCAN_EVERY_MS: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.trim()) continue;
        this.tail.push(`${id}: ${line}`);
        if (this.tail.length > 400) this.tail.shift();
      }
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    slot.child = child;
    slot.signalled = false;
    slot.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        if (!slot.signalled) {
          const lastLines = this.tail.filter((l) => l.startsWith(`${id}: `)).slice(-15);
          this.crashes.push({ worker: id, code, signal, lastLines });
          if (!this.stopping) this.start(slot); // as a supervisor would
        }
        resolve();
      }),
    );
  }
}
