// PUT { enabled, workspaceId? } turns "editors' posts need approval" on or off (admins and owners).
// People only: a leaked API key must not be able to switch the workspace's control off.
import { readJson, withSession } from "@/lib/api/handler";
import { setApprovalSetting, type ApprovalSettingInput } from "@/lib/approvals";

export const PUT = withSession("write", async (request, user) =>
  Response.json(await setApprovalSetting(user, await readJson<ApprovalSettingInput>(request))),
);
