// Who may manage a workspace's billing: its owners and admins. Other members may read the plan.
import { PacerError } from "@/lib/api/errors";
import type { Tx } from "@/lib/db";

/** Owners and admins manage billing; other members get a 403 that says so. */
export async function requireBillingManager(tx: Tx, workspaceId: string): Promise<void> {
  const [row] = await tx`select private.has_role_on_workspace(${workspaceId}, 'admin') as ok`;
  if (!row.ok) {
    throw new PacerError(403, "forbidden", "Only the workspace's owners and admins can change its plan or billing.");
  }
}
