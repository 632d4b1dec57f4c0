// The one edge every API route goes through: authenticate (cookie, bearer token or API key), check an
// API key's scope for the route, refuse cross-site changes, count the request against the route's
// limit, run it, and turn a PacerError into its JSON reply. Route handlers stay thin: they call lib/
// and shape the reply.
import { authenticate } from "@/lib/auth";
import { authorizeApiKey } from "@/lib/api-keys";
import type { UserClaims } from "@/lib/db";
import { PacerError, unauthorized } from "./errors";
import { enforceApiLimit, type ApiBucket } from "./limits";
import { checkSameOrigin } from "./origin";

export { readJson, BODY_LIMITS } from "./body";

export function errorResponse(error: PacerError): Response {
  return Response.json({ error: error.toJSON() }, { status: error.status, headers: error.headers });
}

type Handler<Ctx> = (request: Request, user: UserClaims, ctx: Ctx) => Promise<Response>;

/**
 * Wrap a route, declaring its rate-limit bucket: 401 without a valid session, bearer token or API key;
 * 403 for an API key without the scope the bucket needs (lib/api-keys KEY_SCOPE_OF_BUCKET); 403/415
 * for a cookie-authenticated change from elsewhere; 429 over the limit (per user, or per API key);
 * PacerErrors become their reply.
 */
export function withUser<Ctx>(bucket: ApiBucket, handler: Handler<Ctx>) {
  return wrap(bucket, handler, false);
}

/** Like withUser, for routes only people may use (API key management, operators' views): API keys get 403. */
export function withSession<Ctx>(bucket: ApiBucket, handler: Handler<Ctx>) {
  return wrap(bucket, handler, true);
}

function wrap<Ctx>(bucket: ApiBucket, handler: Handler<Ctx>, peopleOnly: boolean) {
  return async (request: Request, ctx: Ctx): Promise<Response> => {
    try {
      const caller = await authenticate(request);
      if (!caller) throw unauthorized();
      // A key acts only within its scopes; its claims then carry the scope this request uses.
      const user = caller.api_key ? authorizeApiKey(caller, bucket, peopleOnly) : caller;
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
