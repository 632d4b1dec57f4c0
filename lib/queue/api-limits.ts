// Moved to lib/api (limits.ts, body.ts, handler.ts), where every route's limits now live. Kept only so
// branches written against this path still compile; import from lib/api instead.
import { BODY_LIMITS, readJson } from "@/lib/api/body";
import { withUser } from "@/lib/api/handler";

export { API_LIMITS, hitApiLimit, type ApiBucket } from "@/lib/api/limits";
export const MAX_BODY_BYTES = BODY_LIMITS.bulk;
export const withApiLimit = withUser;
export const readJsonWithin = <Claimed = unknown>(request: Request, maxBytes: number = MAX_BODY_BYTES) =>
  readJson<Claimed>(request, maxBytes);
