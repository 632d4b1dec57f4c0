// GET one page of the workspace's audit log, newest first, filtered by actor, action, entity and time.
// People only: the audit log is the record of what a (possibly leaked) API key did.
import { withSession } from "@/lib/api/handler";
import { listAudit } from "@/lib/audit";
import { auditQueryFrom } from "@/lib/audit/input";

export const GET = withSession("read", async (request, user) => {
  return Response.json(await listAudit(user, auditQueryFrom(new URL(request.url).searchParams)));
});
