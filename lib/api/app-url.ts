// The app's public address, as users' browsers reach it, for the links Pacer hands to platforms (the
// Mastodon sign-in's redirect URI, Upload-Post's way back). Only the operator's PACER_APP_URL says
// it: a request's Host or X-Forwarded-Host is whatever its sender wrote, and Next.js reports
// request.url as localhost.
import { PacerError } from "./errors";

/** PACER_APP_URL's origin, or null when it is not set (or not a URL). */
export function configuredAppOrigin(): string | null {
  const configured = process.env.PACER_APP_URL?.trim();
  if (!configured) return null;
  try {
    const url = new URL(configured);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

/** `path` on the app's public origin; refuses, naming the variable, when the operator has not set it. */
export function appUrl(path: string, purpose: string): string {
  const origin = configuredAppOrigin();
  if (!origin) {
    throw new PacerError(
      503,
      "app_url_not_set",
      `${purpose} needs this installation's public address, and it is not configured: the operator sets PACER_APP_URL (e.g. https://pacer.example.com).`,
    );
  }
  return new URL(path, origin).href;
}
