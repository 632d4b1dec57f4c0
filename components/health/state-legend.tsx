// What the account states and the health score mean, one tap or keypress away (a disclosure, not a
// tooltip), wherever they are shown: the usage card and the health pages.
import { stateLabel, stateMeanings } from "./labels";

export function StateLegend({ className }: { className?: string }) {
  return (
    <details className={className} data-testid="state-legend">
      <summary className="cursor-pointer text-sm font-medium underline-offset-4 hover:underline">
        What Connected, Active and the health score mean
      </summary>
      <dl className="mt-2 grid gap-2 text-sm">
        {Object.entries(stateMeanings).map(([state, meaning]) => (
          <div key={state}>
            <dt className="font-medium">{stateLabel(state)}</dt>
            <dd className="text-muted-foreground">{meaning}</dd>
          </div>
        ))}
        <div>
          <dt className="font-medium">Health score (0–100)</dt>
          <dd className="text-muted-foreground">
            Every account starts at 100. Each health rule that fires (followers dropping fast, repeated failed posts, 7 or
            more days without a post, an expired token, a platform restriction) takes points off. 80 and up is healthy,
            40–79 is worth watching, under 40 is in trouble. The workspace can pause accounts automatically below a
            score it chooses (Health settings).
          </dd>
        </div>
      </dl>
    </details>
  );
}
