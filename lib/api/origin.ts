// Cross-site request forgery: a browser sends the session cookie with any request to Pacer, even one a
// foreign page makes, so a cookie-authenticated change must prove it came from Pacer's own pages.
import { PacerError } from "./errors";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The host this request was addressed to, as the browser saw it (behind a proxy, the forwarded one). */
function requestHost(request: Request): string {
  return (
    request.headers.get("x-forwarded-host")?.split(",")[0]?.trim() ||
    request.headers.get("host") ||
    new URL(request.url).host
  );
}

/**
 * For a change authenticated by cookie: `Content-Type: application/json` (which a foreign page cannot
 * send without a CORS preflight, which Pacer never grants) and an `Origin` naming this host. Requests
 * with a bearer token carry no ambient credentials and are not checked.
 */
export function checkSameOrigin(request: Request): void {
  if (!UNSAFE_METHODS.has(request.method.toUpperCase())) return;
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new PacerError(
      415,
      "unsupported_media_type",
      "A signed-in browser request that changes data must send its body as JSON, with Content-Type: application/json.",
    );
  }
  const origin = request.headers.get("origin");
  let host: string | null = null;
  try {
    host = origin ? new URL(origin).host : null;
  } catch {
    host = null;
  }
  if (!host || host !== requestHost(request)) {
    throw new PacerError(
      403,
      "cross_origin_request",
      "This request changes data with your session cookie but did not come from Pacer's own pages (its Origin header " +
        "is missing or names another site). Scripts should send `Authorization: Bearer <access token>` instead.",
    );
  }
}
