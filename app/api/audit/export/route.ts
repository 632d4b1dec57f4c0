// GET the filtered audit log as a CSV file (cells a spreadsheet would run as formulas are escaped).
// People only: the audit log is the record of what a (possibly leaked) API key did.
import { withSession } from "@/lib/api/handler";
import { exportAudit } from "@/lib/audit";
import { auditQueryFrom } from "@/lib/audit/input";

export const GET = withSession("read", async (request, user) => {
  const { workspaceId, csv, truncated } = await exportAudit(user, auditQueryFrom(new URL(request.url).searchParams));
  const day = new Date().toISOString().slice(0, 10);
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="pacer-audit-${workspaceId.slice(0, 8)}-${day}.csv"`,
      "cache-control": "no-store",
      // Set when the filters matched more rows than one export holds.
      ...(truncated ? { "x-pacer-truncated": "true" } : {}),
    },
  });
});
