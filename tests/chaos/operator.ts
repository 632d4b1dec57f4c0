// The people around the queue during the chaos run: an operator who reconnects an account whose
// token expired and clears a restricted one after review (except the accounts left abandoned), and
// who cancels a few posts. It notes when it saw each account parked and when it resumed it, so the
// audit can check that nothing was claimed or published in between.
import type { ChaosAccount, ChaosConfig, Sql, World } from "./scene.ts";
import { between } from "./scene.ts";
import { asOwner } from "./database.ts";

export interface ParkWindow {
  accountId: string;
  state: "needs_reconnect" | "restricted";
  /** When the operator first saw the account parked: the park had happened by then. */
  seenAt: number;
  /** When the operator began resuming it; null while (or if never) resumed. */
  resumedAt: number | null;
}

export class Operator {
  readonly windows: ParkWindow[] = [];
  private readonly open = new Map<string, ParkWindow>();
  private readonly resumeDue = new Map<string, number>();
  /** Cancels: done at once, flagged for the attempt in flight to decide, refused (posted or failed by then). */
  cancelled = 0;
  cancelRequested = 0;
  cancelRefused = 0;
  /** Items an owner asked to cancel (and the cancel was accepted). */
  readonly asked = new Set<number>();
  /** The longest an item stayed leased past its lease's expiry, as seen by the monitor. */
  maxOverdueMs = 0;

  constructor(
    private readonly sql: Sql,
    private readonly world: World,
    private readonly config: ChaosConfig,
    private readonly random: () => number,
  ) {}

  /** One round: look at the accounts, resume those whose time has come, watch for stuck leases. */
  async tick(): Promise<void> {
    try {
      await this.watchAccounts();
      await this.watchLeases();
    } catch {
      // The database is restarting: try again next round.
    }
  }

  private async watchAccounts(): Promise<void> {
    const parked = await this.sql`select id, state from public.social_accounts
                                  where workspace_id = any(${this.world.workspaceIds})
                                    and state in ('needs_reconnect', 'restricted')`;
    const seenAt = Date.now();
    for (const row of parked) {
      const current = this.open.get(row.id);
      if (current && current.state === row.state) continue;
      // Parked in another way than before: the earlier window ends here, the account parked throughout.
      if (current) current.resumedAt = seenAt;
      const window: ParkWindow = { accountId: row.id, state: row.state, seenAt, resumedAt: null };
      this.open.set(row.id, window);
      this.windows.push(window);
      const account = this.world.accountById.get(row.id) as ChaosAccount;
      if (!account.abandoned) this.resumeDue.set(row.id, seenAt + between(this.random, this.config.resumeAfterMs));
    }
    for (const [accountId, due] of this.resumeDue) {
      if (due > Date.now()) continue;
      const window = this.open.get(accountId)!;
      const resumedAt = Date.now();
      // Reconnecting (or reviewing) the account: its parked items come back through the engine's trigger.
      // If it parked in another way meanwhile, nothing changes and the next round opens that window.
      await this.sql`update public.social_accounts set state = 'active', requires_review = false, last_error = null
                     where id = ${accountId} and state = ${window.state}`;
      this.resumeDue.delete(accountId);
      this.open.delete(accountId);
      window.resumedAt = resumedAt;
    }
  }

  private async watchLeases(): Promise<void> {
    const [row] = await this.sql`select coalesce(max(extract(epoch from clock_timestamp() - lease_expires_at) * 1000), 0)::float8 as ms
                                 from public.queue_items where lease_id is not null and lease_expires_at < clock_timestamp()`;
    this.maxOverdueMs = Math.max(this.maxOverdueMs, row.ms);
  }

  /**
   * The owners cancel `n` items at random, each on its own, through the function the cancel route
   * calls: a waiting item is cancelled at once, one mid-publish only flagged for its outcome to decide.
   * An item that was posted or failed in the meantime refuses, as the API would.
   */
  async cancelSome(n: number): Promise<void> {
    let picked: Array<{ id: string; workspace_id: string }>;
    try {
      picked = (await this.sql`select id, workspace_id from public.queue_items
                               where workspace_id = any(${this.world.workspaceIds})
                                 and status not in ('posted', 'failed', 'cancelled')
                               order by random() limit ${n}`) as unknown as typeof picked;
    } catch {
      return; // the database is restarting: this round cancels nothing
    }
    for (const item of picked) {
      const owner = this.world.groups.find((g) => g.workspaceId === item.workspace_id)!.ownerId;
      try {
        const [r] = await asOwner(this.sql, owner, (tx) => tx`select * from private.cancel_queue_items(${item.workspace_id}, ${[item.id]}::bigint[])`);
        this.asked.add(Number(item.id));
        this.cancelled += r.cancelled;
        this.cancelRequested += r.cancel_requested;
      } catch {
        this.cancelRefused++;
      }
    }
  }

  /** Windows still open at the end belong to abandoned accounts: they stay parked for good. */
  openWindows(): ParkWindow[] {
    return this.windows.filter((w) => w.resumedAt === null);
  }
}
