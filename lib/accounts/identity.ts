// Which identity on its platform an account's credentials are for, stored by the server beside the
// sealed credentials (social_accounts.platform_identity; the database cannot read the credentials).
// Disconnect compares it, not the handle any workspace may name, to tell whether another Pacer
// account holds the same Mastodon user's token (private.identity_in_use).

/** Mastodon: the instance and the account's id there; Bluesky: the DID. null for platforms Pacer does not compare. */
export function platformIdentity(platform: string, credentials: Record<string, string>): string | null {
  if (platform === "mastodon" && credentials.instance && credentials.accountId) return `${credentials.instance}#${credentials.accountId}`;
  if (platform === "bluesky" && credentials.did) return credentials.did;
  return null;
}
