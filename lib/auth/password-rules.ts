// Pacer's password rules, in one place: the sign-up and reset forms show them before submit, and the
// local auth server (local/gateway/auth.ts) enforces them. A hosted Supabase project enforces its own
// setting (Authentication → Providers → Email → Minimum password length), which must match
// PASSWORD_MIN_LENGTH (docs/deploying.md).

/** Supabase's default minimum length; no required character classes. */
export const PASSWORD_MIN_LENGTH = 6;
/** bcrypt only looks at the first 72 bytes; GoTrue refuses longer passwords rather than truncating. */
export const PASSWORD_MAX_BYTES = 72;

/** The rules as the forms show them, before anyone submits. */
export const PASSWORD_RULES = `At least ${PASSWORD_MIN_LENGTH} characters. Any letters, digits or symbols.`;

/** What is wrong with a password under these rules, in Pacer's words; null when it is fine. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) {
    return `Use at least ${PASSWORD_MIN_LENGTH} characters (this one has ${password.length}).`;
  }
  if (new TextEncoder().encode(password).length > PASSWORD_MAX_BYTES) {
    return `Use at most ${PASSWORD_MAX_BYTES} characters (fewer if you use accented letters or emoji).`;
  }
  return null;
}
