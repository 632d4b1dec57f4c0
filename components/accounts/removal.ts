// What removing accounts does, in the words the confirmation and the announcement use: the counts come
// from POST /api/accounts/removal-preview, so the confirmation says exactly what will happen.
import { sendJson } from "@/lib/api/client";

export interface RemovalPreview {
  accounts: number;
  waiting: number;
  inFlight: number;
  posted: number;
}

export const previewRemoval = (accountIds: string[]) => sendJson<RemovalPreview>("POST", "/api/accounts/removal-preview", { accountIds });

const posts = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "post" : "posts"}`;

/** "3 posts waiting will be cancelled; 120 posted stay in your history." */
export function removalConsequences(p: RemovalPreview): string {
  const parts = [
    p.waiting > 0 ? `${posts(p.waiting)} waiting will be cancelled` : "No posts are waiting",
    ...(p.inFlight > 0 ? [`${posts(p.inFlight)} being published now will be cancelled unless already posted`] : []),
    p.posted > 0 ? `${p.posted.toLocaleString("en")} posted ${p.posted === 1 ? "stays" : "stay"} in your history` : "nothing was posted yet",
  ];
  return `${parts.join("; ")}. The plan slot is freed; the handle can be added again later.`;
}
