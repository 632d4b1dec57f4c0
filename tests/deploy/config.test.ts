// What the Supabase CLI reads from this repository is safe to push to a real project as it is:
// no demo user, no localhost in Auth's settings, the cron's secrets in Vault before the migrations
// that schedule the calls, and every scheduled function reachable with the cron secret alone.
import { PASSWORD_MIN_LENGTH } from "@/lib/auth/password-rules";
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SUPABASE = join(import.meta.dirname, "..", "..", "supabase");

/** The subset of TOML config.toml uses: [sections], key = "string" | [array] | bool | number. */
function parseConfig(text: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = { "": {} };
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (!line || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] ??= {};
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) throw new Error(`config.toml: cannot read "${raw}"`);
    out[section][kv[1]] = JSON.parse(kv[2]);
  }
  return out;
}

const config = parseConfig(readFileSync(join(SUPABASE, "config.toml"), "utf8"));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("supabase/ as the CLI pushes it", () => {
  it("has no seed the CLI could push, and no demo user anywhere under supabase/", () => {
    expect(config["db.seed"]?.enabled).toBe(false);
    const withDemo = filesUnder(SUPABASE).filter((f) => readFileSync(f, "utf8").includes("demo@pacer.local"));
    expect(withDemo).toEqual([]);
  });

  it("takes Auth's site URL and redirect URLs from the environment, never localhost", () => {
    expect(config.auth.site_url).toBe("env(PACER_SITE_URL)");
    expect(config.auth.additional_redirect_urls).toEqual(["env(PACER_SITE_URL)"]);
    const auth = Object.entries(config).filter(([name]) => name === "auth" || name.startsWith("auth."));
    expect(JSON.stringify(auth)).not.toMatch(/localhost|127\.0\.0\.1/);
    // A real project confirms new addresses.
    expect(config["auth.email"].enable_confirmations).toBe(true);
  });

  it("asks the project for the password length the sign-up form states, and mails reset links to /auth/confirm", () => {
    expect(config.auth.minimum_password_length).toBe(PASSWORD_MIN_LENGTH);
    const recovery = config["auth.email.template.recovery"];
    const template = readFileSync(join(SUPABASE, "..", String(recovery.content_path)), "utf8");
    expect(template).toContain("/auth/confirm?token_hash={{ .TokenHash }}&type=recovery");
  });

  it("stores the cron's two Vault secrets during db push, the cron secret being PACER_CRON_SECRET", () => {
    expect(config["db.vault"]).toEqual({ project_url: "env(PACER_PROJECT_URL)", secret_key: "env(PACER_CRON_SECRET)" });
  });

  it("lets every scheduled function be called with the cron secret alone (verify_jwt = false)", () => {
    const migrations = readdirSync(join(SUPABASE, "migrations"))
      .map((f) => readFileSync(join(SUPABASE, "migrations", f), "utf8"))
      .join("\n");
    const scheduled = [...migrations.matchAll(/^select private\.schedule_function\('([a-z0-9-]+)'/gm)].map((m) => m[1]);
    expect(scheduled).toContain("process-queue");
    for (const name of scheduled) {
      expect(readdirSync(join(SUPABASE, "functions"))).toContain(name);
      expect(config[`functions.${name}`]?.verify_jwt, `[functions.${name}] verify_jwt`).toBe(false);
    }
  });
});
