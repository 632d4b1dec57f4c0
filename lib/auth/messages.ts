// What the sign-in, sign-up and password pages say when Supabase Auth refuses: Pacer's words and the
// next step, chosen by GoTrue's error code (stable), never its message (which changes between versions).
import { PASSWORD_MIN_LENGTH } from "./password-rules";

export type AuthAction = "sign-in" | "sign-up" | "reset-request" | "new-password";

/** What to say, and where the next step is (a link the form shows after the text). */
export interface AuthProblem {
  text: string;
  next?: { label: string; href: "/sign-in" | "/sign-up" | "/forgot-password" };
  /** The form field the problem is about, to put focus back on. */
  field?: "email" | "password";
}

/** The parts of an AuthError this reads: supabase-js's `code` and `status` (0 when Auth was unreachable). */
export interface AuthFailure {
  code?: string;
  status?: number;
  message: string;
}

export function authProblem(action: AuthAction, error: AuthFailure): AuthProblem {
  switch (error.code) {
    case "invalid_credentials":
      return { text: "Wrong email or password.", next: { label: "Forgot password?", href: "/forgot-password" }, field: "password" };
    case "user_already_exists":
    case "email_exists":
      return { text: "An account with this email exists.", next: { label: "Sign in instead", href: "/sign-in" }, field: "email" };
    case "weak_password":
      return { text: `That password is too short: use at least ${PASSWORD_MIN_LENGTH} characters.`, field: "password" };
    case "same_password":
      return { text: "That is your current password. Choose a different one.", field: "password" };
    case "email_not_confirmed":
      return { text: "Confirm your email address first: follow the link in the email we sent when you signed up." };
    case "user_banned":
      return { text: "This account is suspended. Contact the person who runs this Pacer server." };
    case "signup_disabled":
    case "email_provider_disabled":
      return { text: "New sign-ups are closed on this Pacer server.", next: { label: "Sign in instead", href: "/sign-in" } };
    case "over_request_rate_limit":
      return { text: "Too many attempts in a short time. Wait a minute, then try again." };
    case "session_not_found":
    case "bad_jwt":
    case "no_authorization":
      return action === "new-password"
        ? { text: "Your reset link has expired. Ask for a new one.", next: { label: "Get a new link", href: "/forgot-password" } }
        : { text: "Your session ended. Sign in again.", next: { label: "Sign in", href: "/sign-in" } };
  }
  if (error.code === "validation_failed" && /email/i.test(error.message)) {
    return { text: "That does not look like an email address. Check it and try again (like you@example.com).", field: "email" };
  }
  if (!error.status) {
    return { text: "Pacer could not reach its sign-in service. Check your connection, then try again." };
  }
  // Anything else is Pacer's problem, not the user's: say so, and keep the service's words for support.
  return { text: `Something went wrong on our side. Try again in a moment; if it keeps happening, tell support: “${error.message}”.` };
}
