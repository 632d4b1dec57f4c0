// What the accounts page's words mean, in visible text one click or tap away (a disclosure, not a
// hover-only tooltip): "Connected", "Active", "Paused", the health figure and its bands.
import { HEALTH_BANDS, type HealthBand } from "@/lib/accounts/input";

const BAND_WORDS: Record<HealthBand, string> = { good: "good", fair: "fair", poor: "poor" };

/** "good", "fair" or "poor": the band a health score falls in (the list's health filter uses the same). */
export function healthBand(score: number): string {
  const band = (Object.keys(HEALTH_BANDS) as HealthBand[]).find((b) => score >= HEALTH_BANDS[b].min && score <= HEALTH_BANDS[b].max);
  return band ? BAND_WORDS[band] : "";
}

export function AccountTerms() {
  return (
    <details className="rounded-md border px-3 py-2 text-sm">
      <summary className="cursor-pointer font-medium outline-none focus-visible:ring-[3px] focus-visible:ring-ring/50">
        What “Connected”, “Active” and the health figure mean
      </summary>
      <dl className="mt-2 grid gap-2 text-muted-foreground">
        <div>
          <dt className="font-medium text-foreground">Connected</dt>
          <dd>Pacer holds working credentials for the account and may publish to it; nothing has been published to it through Pacer yet.</dd>
        </div>
        <div>
          <dt className="font-medium text-foreground">Active</dt>
          <dd>Connected, and Pacer has published to it successfully (or it was resumed after a pause). Connected and Active accounts both publish.</dd>
        </div>
        <div>
          <dt className="font-medium text-foreground">Paused</dt>
          <dd>
            Nothing is published; its posts wait until it is resumed. The line under the state says why: a person paused it, its health
            fell below the workspace&apos;s threshold, or the plan does not cover it.
          </dd>
        </div>
        <div>
          <dt className="font-medium text-foreground">Needs reconnect, Restricted, Needs review</dt>
          <dd>The platform stopped accepting the account&apos;s credentials, limited it, or Pacer needs a person to look before it publishes again.</dd>
        </div>
        <div>
          <dt className="font-medium text-foreground">Health (0–100)</dt>
          <dd>
            A score from the account&apos;s recent publishing: failures, rate limits, expired tokens and restrictions lower it. Good is{" "}
            {HEALTH_BANDS.good.min} and up, fair {HEALTH_BANDS.fair.min}–{HEALTH_BANDS.fair.max}, poor below {HEALTH_BANDS.fair.min}. A new account starts
            at 100.
          </dd>
        </div>
        <div>
          <dt className="font-medium text-foreground">Removed</dt>
          <dd>
            The account no longer publishes and does not count against the plan. Its posted items stay in the queue and the history, marked
            as a removed account; posts that were waiting were cancelled.
          </dd>
        </div>
      </dl>
    </details>
  );
}
