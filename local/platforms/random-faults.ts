// Probabilistic faults for the platform fakes, as the sandbox has them: each publish request rolls
// once and meets at most one fault, each kind at its own share of the requests, from a generator the
// test can seed (so a run replays). The fakes turn a rolled kind into their one-shot fault, so a
// random fault behaves exactly as the same fault queued by hand.
//
// The rolls are dealt from shuffled decks of 100 (each kind's share of every deck exact, the order
// random), not drawn independently: a run of a few hundred requests then meets each fault at its
// share give or take one deck's remainder, so a test can assert the rates without ever flaking.

export interface FaultDiceOptions<K extends string> {
  /** Each kind's share of the publish requests (their sum at most 1). */
  shares: Partial<Record<K, number>>;
  /** Uniform in [0, 1); Math.random unless a test seeds one. */
  random?: () => number;
}

const DECK = 100;

export class FaultDice<K extends string> {
  /** Publish requests that rolled, and how many met each kind. */
  requests = 0;
  readonly fired = {} as Record<K, number>;
  private readonly shares: Array<[K, number]>;
  private readonly random: () => number;
  private deck: Array<K | undefined> = [];

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
    if (this.deck.length === 0) this.deck = this.shuffledDeck();
    const kind = this.deck.pop();
    if (kind !== undefined) this.fired[kind]++;
    return kind;
  }

  /** DECK cards: round(share × DECK) of each kind, the rest no fault, in a random order (Fisher–Yates). */
  private shuffledDeck(): Array<K | undefined> {
    const deck: Array<K | undefined> = this.shares.flatMap(([kind, p]) => Array<K>(Math.round(p * DECK)).fill(kind));
    while (deck.length < DECK) deck.push(undefined);
    for (let i = deck.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [deck[i], deck[j]] = [deck[j], deck[i]];
    }
    return deck;
  }
}
