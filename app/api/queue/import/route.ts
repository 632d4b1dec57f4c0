// POST imports one chunk of a CSV file's rows (idempotent by importId and row number): 201 when rows
// were queued, 202 when an editor's rows were sent for approval instead, 200 when nothing was new. GET says
// whether this workspace may import and lists its latest imports, or one import with ?importId=.
import { getImport, importChunk, importOverview } from "@/lib/import";
import { BODY_LIMITS, readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("bulk", async (request, user) => {
  const result = await importChunk(user, await readJson(request, BODY_LIMITS.bulk));
  return Response.json(result, { status: result.imported > 0 ? 201 : result.awaitingApproval > 0 ? 202 : 200 });
});

export const GET = withUser("read", async (request, user) => {
  const query = new URL(request.url).searchParams;
  const importId = query.get("importId");
  if (importId !== null) return Response.json({ import: await getImport(user, importId) });
  return Response.json(await importOverview(user, { workspaceId: query.get("workspaceId") }));
});
