// The engine's settings from the environment, read the same way by `npm run worker` (Node) and the
// process-queue Edge Function (Deno); unset means the engine's defaults (ENGINE_DEFAULTS).
import type { ProcessOptions } from "./process.ts";

export type EngineSettings = Pick<ProcessOptions, "concurrency" | "batchSize" | "leaseSeconds" | "callTimeoutMs" | "retry" | "verifyRetryMs">;

/** The variables read, each a positive whole number (PACER_RETRY_MAX may be 0). */
const NUMBERS = {
  concurrency: "PACER_WORKER_CONCURRENCY",
  batchSize: "PACER_BATCH_SIZE",
  leaseSeconds: "PACER_LEASE_SECONDS",
  callTimeoutMs: "PACER_CALL_TIMEOUT_MS",
} as const;

/** Throws, naming the variable, when one is set to anything but a positive whole number. */
export function engineSettingsFromEnv(env: Record<string, string | undefined>): EngineSettings {
  const settings: EngineSettings = {};
  for (const [key, name] of Object.entries(NUMBERS) as Array<[keyof typeof NUMBERS, string]>) {
    const value = positive(env, name);
    if (value !== undefined) settings[key] = value;
  }
  const baseMs = positive(env, "PACER_RETRY_BASE_MS");
  if (baseMs !== undefined) settings.retry = { baseMs, factor: 2, maxRetries: whole(env, "PACER_RETRY_MAX", 0) ?? 3, jitter: 0.1 };
  // Waits between lookups the platform could not answer, e.g. "60000,300000,900000"; after the last, a human decides.
  const waits = env.PACER_VERIFY_RETRY_MS;
  if (waits) {
    const list = waits.split(",").map((w) => Number(w.trim()));
    if (list.some((w) => !Number.isSafeInteger(w) || w < 1)) {
      throw new Error(`PACER_VERIFY_RETRY_MS must be comma-separated positive whole numbers of ms, got "${waits}".`);
    }
    settings.verifyRetryMs = list;
  }
  return settings;
}

function positive(env: Record<string, string | undefined>, name: string): number | undefined {
  return whole(env, name, 1);
}

function whole(env: Record<string, string | undefined>, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}".`);
  }
  return value;
}
