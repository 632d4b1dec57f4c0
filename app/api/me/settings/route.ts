// GET the signed-in user's settings ({ timeZone: null } until one is saved); PUT { timeZone } saves them.
import { readJson, withUser } from "@/lib/api/handler";
import { getSettings, saveSettings, type SettingsInput } from "@/lib/settings";

export const GET = withUser("read", async (_request, user) => Response.json(await getSettings(user)));

export const PUT = withUser("write", async (request, user) =>
  Response.json(await saveSettings(user, await readJson<SettingsInput>(request))),
);
