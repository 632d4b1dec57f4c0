// What the composer and the queue show per platform: its text limit (public.platforms.text_limit,
// text_unit) and its default posting limits (public.rate_limit_policies, as the workspace tightened
// them), for the platforms this installation offers (PACER_CONNECTORS). Read as the user: every
// signed-in user may read the platforms and their limits; the workspace's own limits are under RLS.
import { asUser, type UserClaims } from "@/lib/db";
import { platformEnabled } from "@/lib/connectors/registry";
import { resolveWorkspaceId } from "@/lib/workspaces";

export interface PlatformLimits {
  platform: string;
  name: string;
  /** Most characters one post's text may have (a first comment too); null where Pacer knows none. */
  textLimit: number | null;
  /**
   * How they are counted: "graphemes" is what a reader sees as one character (Intl.Segmenter),
   * "characters" is Unicode code points ([...text].length). Mastodon's instance may allow more than
   * the 500 shown (its own limit is read at publish).
   */
  textUnit: "characters" | "graphemes";
  /** Posts per hour and per day per account, and the least time between two: the platform's default, as the workspace tightened it. */
  perHour: number | null;
  perDay: number | null;
  minGapMs: number | null;
}

/** The offered platforms' limits, for the workspace (its tightened limits apply), ordered by name. */
export function listPlatformLimits(user: UserClaims, requestedWorkspaceId?: string | null): Promise<{ workspaceId: string; platforms: PlatformLimits[] }> {
  return asUser(user, async (tx) => {
    const workspaceId = await resolveWorkspaceId(tx, requestedWorkspaceId);
    const rows = await tx`
      select p.id, p.name, p.text_limit, p.text_unit,
             least(d.per_hour, w.per_hour) as per_hour, least(d.per_day, w.per_day) as per_day,
             greatest(d.min_gap_ms, w.min_gap_ms) as min_gap_ms
      from public.platforms p
      left join public.rate_limit_policies d on d.platform = p.id and d.action = 'post'
      left join public.workspace_rate_limits w on w.workspace_id = ${workspaceId} and w.platform = p.id and w.action = 'post'
      where p.enabled
      order by p.name`;
    return {
      workspaceId,
      platforms: rows
        .filter((r) => platformEnabled(r.id as string, process.env))
        .map((r) => ({
          platform: r.id as string,
          name: r.name as string,
          textLimit: r.text_limit as number | null,
          textUnit: r.text_unit as PlatformLimits["textUnit"],
          perHour: r.per_hour as number | null,
          perDay: r.per_day as number | null,
          minGapMs: r.min_gap_ms as number | null,
        })),
    };
  });
}
