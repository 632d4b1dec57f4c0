// POST asks, before importing, which of a file's rows (numbers and fingerprints) are queued already
// from an earlier upload of it, and which changed since: the preview's "imported before" notice.
// It writes nothing, so it is in the `read` bucket; a 10,000-row file's fingerprints need bulk's body.
import { checkImportedRows } from "@/lib/import";
import { BODY_LIMITS, readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("read", async (request, user) => Response.json(await checkImportedRows(user, await readJson(request, BODY_LIMITS.bulk))));
