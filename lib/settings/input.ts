// What a user's settings accept, as zod schemas shared by the settings page's form and the API.
import { z } from "zod";

// One definition of a time zone for settings, imports and the composer: an IANA name, not an offset.
import { isTimeZone } from "@/lib/time/wall-time";

export const timeZone = z
  .string("timeZone must be text, e.g. Europe/Paris.")
  .trim()
  .min(1, "Name a time zone, e.g. Europe/Paris.")
  .max(64, "A time zone name has at most 64 characters.")
  .refine(isTimeZone, "Unknown time zone: use an IANA name such as Europe/Paris, America/New_York or UTC.");

export const settingsInput = z.strictObject({ timeZone });

export type SettingsInput = z.input<typeof settingsInput>;

/** A user's settings; a null time zone means none is saved yet (pages use the browser's). */
export interface UserSettings {
  timeZone: string | null;
  updatedAt: string | null;
}
