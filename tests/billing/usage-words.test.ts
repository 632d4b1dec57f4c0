// One wording for "how many accounts against the plan": the count is always plain, and the sentence
// under it never says "all 10 in use" when 12 are.
import { describe, expect, it } from "vitest";
import { usageWords } from "@/lib/billing/usage-words";

describe("usageWords", () => {
  it("under the limit: how many more can be added", () => {
    expect(usageWords({ used: 9, max: 10, planName: "Free" })).toEqual({
      state: "room",
      summary: "9 of 10 accounts used · Free plan",
      detail: "1 more account can be added on the Free plan.",
    });
  });

  it("at the limit: all in use, and what to do", () => {
    const words = usageWords({ used: 10, max: 10, planName: "Free" });
    expect(words.state).toBe("full");
    expect(words.detail).toBe("All 10 accounts the Free plan allows are in use. Remove an account or upgrade the plan to add another.");
  });

  it("over the limit: says how many are over and paused, never 'all in use'", () => {
    const words = usageWords({ used: 12, max: 10, planName: "Free" });
    expect(words.state).toBe("over");
    expect(words.summary).toBe("12 of 10 accounts used · Free plan");
    expect(words.detail).toContain("2 accounts are over the Free plan's limit of 10, so the 2 most recently added are paused");
    expect(words.detail).not.toMatch(/in use/);
    expect(usageWords({ used: 11, max: 10, planName: "Free" }).detail).toContain("1 account is over the Free plan's limit of 10, so the most recently added one is paused");
  });
});
