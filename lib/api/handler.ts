// The one edge every API route goes through: authenticate (cookie or bearer token), refuse
// cross-site changes, count the request against the route's limit, run it, and turn a PacerError
// into its JSON reply. Route handlers stay thin: they call lib/ and shape the reply.
import { authenticate } from "@/lib/auth";
import type { UserClaims } from "@/lib/db";
import { PacerError, unauthorized } from "./errors";
import { enforceApiLimit, type ApiBucket } from "./limits";
import { checkSameOrigin } from "./origin";

export { readJson, BODY_LIMITS } from "./body";

export function errorResponse(error: PacerError): Response {
  return Response.json({ error: error.toJSON() }, { status: error.status, headers: error.headers });
}

/**
 * Wrap a route, declaring its rate-limit bucket: 401 without a valid session or bearer token; 403/415
 * for a cookie-authenticated change from elsewhere; 429 over the limit; PacerErrors become their reply.
 */
export function withUser<Ctx>(
  bucket: ApiBucket,
  handler: (request: Request, user: UserClaims, ctx: Ctx) => Promise<Response>,
) {
  return async (request: Request, ctx: Ctx): Promise<Response> => {
    try {
      const user = await authenticate(request);
      if (!user) throw unauthorized();
      // A bearer token is sent deliberately; a cookie rides along with any request, forged or not.
      if (!request.headers.has("authorization")) checkSameOrigin(request);
      await enforceApiLimit(user, bucket);
      return await handler(request, user, ctx);
    } catch (error) {
      if (error instanceof PacerError) return errorResponse(error);
      console.error(error);
      return Response.json(
        { error: { code: "internal_error", message: "Something went wrong on our side; the change was not made." } },
        { status: 500 },
      );
    }
  };
}
