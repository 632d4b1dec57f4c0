// Route handlers stay thin: authenticate, call lib/, shape the reply; errors become JSON with a status.
import { authenticate } from "@/lib/auth";
import type { UserClaims } from "@/lib/db";
import { PacerError, unauthorized } from "./errors";

export function errorResponse(error: PacerError): Response {
  return Response.json({ error: error.toJSON() }, { status: error.status });
}

/** Wrap a route: 401 without a valid session or bearer token; PacerErrors become their JSON reply. */
export function withUser<Ctx>(handler: (request: Request, user: UserClaims, ctx: Ctx) => Promise<Response>) {
  return async (request: Request, ctx: Ctx): Promise<Response> => {
    try {
      const user = await authenticate(request);
      if (!user) throw unauthorized();
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

/** Parse a JSON body, or fail with a 400 that says so. */
export async function readJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch {
    throw new PacerError(400, "invalid_json", "The request body must be valid JSON (Content-Type: application/json).");
  }
}
