// How Pacer says how many social accounts a workspace uses against its plan: one function for the
// dashboard's usage card and the billing page, so "12 of 10 used" is never next to "all 10 in use".

export type UsageState = "room" | "full" | "over";

export interface UsageWords {
  state: UsageState;
  /** "12 of 10 accounts used · Free plan": always the plain count. */
  summary: string;
  /** What that means and what to do next. */
  detail: string;
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function usageWords({ used, max, planName }: { used: number; max: number; planName: string }): UsageWords {
  const summary = `${used} of ${max} accounts used · ${planName} plan`;
  if (used < max) {
    return { state: "room", summary, detail: `${count(max - used, "more account", "more accounts")} can be added on the ${planName} plan.` };
  }
  if (used === max) {
    return {
      state: "full",
      summary,
      detail: `All ${max} accounts the ${planName} plan allows are in use. Remove an account or upgrade the plan to add another.`,
    };
  }
  const over = used - max;
  return {
    state: "over",
    summary,
    detail:
      `${count(over, "account is", "accounts are")} over the ${planName} plan's limit of ${max}, so the ${over === 1 ? "most recently added one is" : `${over} most recently added are`} paused and ` +
      `publish nothing (their posts wait). Nothing was deleted: upgrade, or remove accounts, and they resume. New accounts can be added once the workspace is under the limit.`,
  };
}
