// What a user supplies to connect a Bluesky account: an app password, which the connector trades
// for a session at the account's PDS. Pacer stores the session (lib/connectors/bluesky), never the
// app password: it is used for that one sign-in and forgotten.
import { z } from "zod";

export const blueskyCredentials: z.ZodType<Record<string, string>> = z
  .strictObject(
    {
      appPassword: z
        .string({ error: "Enter an app password (bsky.app → Settings → Privacy and security → App passwords)." })
        .trim()
        .min(1, "Enter an app password (bsky.app → Settings → Privacy and security → App passwords).")
        .max(64, "An app password looks like xxxx-xxxx-xxxx-xxxx."),
    },
    { error: (issue) => (issue.code === "unrecognized_keys" ? `Bluesky accounts take only an appPassword; remove ${issue.keys.join(", ")}.` : undefined) },
  )
  .transform((c): Record<string, string> => ({ appPassword: c.appPassword }));
