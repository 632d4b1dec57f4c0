// Probabilistic faults for the platform fakes, as the sandbox has them: each publish request rolls
// once and meets at most one fault, each kind at its own share of the requests, from a generator the
// test can seed (so a run replays). The fakes turn a rolled kind into their one-shot fault, so a
// random fault behaves exactly as the same fault queued by hand.

export interface FaultDiceOptions<K extends string> {
  /** Each kind's share of the publish requests (their sum at most 1). */
  shares: Partial<Record<K, number>>;
  /** Uniform in [0, 1); Math.random unless a test seeds one. */
  random?: () => number;
}

export class FaultDice<K extends string> {
  /** Publish requests that rolled, and how many met each kind. */
  requests = 0;
  readonly fired = {} as Record<K, number>;
  private readonly shares: Array<[K, number]>;
  private readonly random: () => number;

  constructor(opts: FaultDiceOptions<K>) {
    this.shares = Object.entries(opts.shares).filter(([, p]) => Number(p) > 0) as Array<[K, number]>;
    const total = this.shares.reduce((sum, [, p]) => sum + p, 0);
    if (total > 1) throw new Error(`Fault shares add up to ${total}, more than every request.`);
    for (const [kind] of this.shares) this.fired[kind] = 0;
    this.random = opts.random ?? Math.random;
  }

  /** One request's roll: the fault it meets, if any. */
  roll(): K | undefined {
    this.requests++;
    let r = this.random();
    for (const [kind, p] of this.shares) {
      if (r < p) {
        this.fired[kind]++;
        return kind;
      }
      r -= p;
    }
    return undefined;
  }
}
