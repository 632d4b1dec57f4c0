// When a platform's stated budget holds an account (lib/engine/budget.ts): at the reserve, until the
// reset, never for longer than the window or a day, and never on a budget that cannot be read.
import { describe, expect, it } from "vitest";
import { budgetReserve, budgetSpentUntil, MAX_BUDGET_PAUSE_MS } from "../../lib/engine/budget.ts";

const now = new Date("2026-12-01T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

describe("a platform's stated budget", () => {
  it("holds the account until the reset once what is left is down to the reserve (2% of the window, at least 1)", () => {
    expect(budgetReserve(300)).toBe(6);
    expect(budgetReserve(5_000)).toBe(100);
    expect(budgetReserve(3)).toBe(1);
    expect(budgetSpentUntil({ limit: 300, remaining: 7, resetAt: at(60_000) }, now)).toBeNull();
    expect(budgetSpentUntil({ limit: 300, remaining: 6, resetAt: at(60_000) }, now)).toEqual(new Date(at(60_000)));
    expect(budgetSpentUntil({ limit: 300, remaining: 0, resetAt: at(60_000) }, now)).toEqual(new Date(at(60_000)));
  });

  it("never holds longer than the stated window, nor than a day without one", () => {
    expect(budgetSpentUntil({ limit: 5_000, remaining: 0, resetAt: at(10 * 3_600_000), windowSeconds: 3_600 }, now)).toEqual(new Date(at(3_600_000)));
    expect(budgetSpentUntil({ limit: 300, remaining: 0, resetAt: at(30 * 86_400_000) }, now)).toEqual(new Date(at(MAX_BUDGET_PAUSE_MS)));
  });

  it("ignores a budget it cannot read or whose reset has passed", () => {
    expect(budgetSpentUntil(undefined, now)).toBeNull();
    expect(budgetSpentUntil({ limit: 300, remaining: 0, resetAt: "soon" }, now)).toBeNull();
    expect(budgetSpentUntil({ limit: Number.NaN, remaining: 0, resetAt: at(1_000) }, now)).toBeNull();
    expect(budgetSpentUntil({ limit: 0, remaining: 0, resetAt: at(1_000) }, now)).toBeNull();
    expect(budgetSpentUntil({ limit: 300, remaining: 0, resetAt: at(-1_000) }, now)).toBeNull();
  });
});
