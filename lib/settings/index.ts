// A user's own settings (public.user_settings, one row per user under RLS): read and saved as the user.
import { asUser, type UserClaims } from "@/lib/db";
import { PacerError, validationFailed } from "@/lib/api/errors";
import { settingsInput, type SettingsInput, type UserSettings } from "./input";

export type { SettingsInput, UserSettings } from "./input";

export function getSettings(user: UserClaims): Promise<UserSettings> {
  return asUser(user, async (tx) => {
    const [row] = await tx`select time_zone, updated_at from public.user_settings where user_id = (select auth.uid())`;
    return { timeZone: row?.time_zone ?? null, updatedAt: row ? row.updated_at.toISOString() : null };
  });
}

export async function saveSettings(user: UserClaims, input: SettingsInput): Promise<UserSettings> {
  const parsed = settingsInput.safeParse(input);
  if (!parsed.success) throw validationFailed(parsed.error, "The settings");
  const { timeZone } = parsed.data;
  try {
    return await asUser(user, async (tx) => {
      const [row] = await tx`
        insert into public.user_settings (user_id, time_zone) values ((select auth.uid()), ${timeZone})
        on conflict (user_id) do update set time_zone = excluded.time_zone
        returning time_zone, updated_at`;
      return { timeZone: row.time_zone, updatedAt: row.updated_at.toISOString() };
    });
  } catch (error) {
    // The database's zone list can differ from the browser's: it has the last word, on the same field.
    if ((error as { code?: string }).code === "22023") {
      const message = `${(error as Error).message} ${(error as { hint?: string }).hint ?? ""}`.trim();
      throw new PacerError(400, "validation_failed", `The settings are not valid: timeZone: ${message}`, [{ path: "timeZone", message }]);
    }
    throw error;
  }
}
