// PUT { enabled, workspaceId? } turns "editors' posts need approval" on or off (admins and owners).
import { readJson, withUser } from "@/lib/api/handler";
import { setApprovalSetting, type ApprovalSettingInput } from "@/lib/approvals";

export const PUT = withUser("write", async (request, user) =>
  Response.json(await setApprovalSetting(user, await readJson<ApprovalSettingInput>(request))),
);
