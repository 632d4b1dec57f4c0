// Connecting real platforms' accounts against the local fakes the stack runs (local/platform-fakes.ts):
// Mastodon through its instance's sign-in (OAuth + PKCE, the fake creates the user on the fly), and
// Bluesky with an app password; one failure of each, shown on the accounts page.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";

/** Where the fakes listen: local/dev.ts writes it into the run's data folder (their ports are free ones). */
function fakes(): { mastodon: string; bluesky: string } {
  return JSON.parse(readFileSync(join(process.env.PACER_E2E_DATA_DIR!, "platforms.json"), "utf8"));
}

const unique = (label: string) => `${label}_${Math.random().toString(36).slice(2, 8)}`;

async function signUpToAccounts(page: Page) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(`${unique("connect")}@example.com`);
  await page.getByLabel("Password").fill("pacer-e2e-password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
  await expect(page.getByRole("heading", { name: "Accounts", level: 1 })).toBeVisible();
}

test("a user connects a Mastodon account through the instance's sign-in, and is told when they decline", async ({ page }) => {
  const instance = fakes().mastodon;
  const username = unique("masto");
  const handle = `@${username}@${new URL(instance).hostname}`;
  const accounts = page.getByRole("table", { name: "Social accounts" });
  await signUpToAccounts(page);

  await test.step("naming the instance opens its sign-in", async () => {
    await page.getByLabel("Your instance").fill(instance);
    await page.getByRole("button", { name: "Connect Mastodon" }).click();
    await expect(page.getByRole("heading", { name: "Authorization required" })).toBeVisible();
    expect(page.url().startsWith(`${instance}/oauth/authorize?`)).toBe(true);
  });

  await test.step("authorizing brings the user back with the account connected", async () => {
    await page.getByLabel("Signed in as").fill(username);
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/\/dashboard\/accounts\?connect=mastodon&result=connected/);
    await expect(page.getByRole("alert").filter({ hasText: "Mastodon account connected" })).toContainText(`${handle} is connected`);
    const row = accounts.getByRole("row").filter({ hasText: handle });
    await expect(row).toContainText("Mastodon");
    await expect(row).toContainText("Connected");
  });

  await test.step("a second account of the same instance, from a browser still signed in there as the first", async () => {
    await page.getByRole("button", { name: "Dismiss" }).click();
    const second = unique("masto2");
    await page.getByLabel("Your instance").fill(instance);
    await page.getByRole("button", { name: "Connect Mastodon" }).click();
    // force_login: the instance asks who signs in instead of sending the first account straight back.
    await page.getByLabel("Signed in as").fill(second);
    await page.getByRole("button", { name: "Authorize" }).click();
    await expect(page).toHaveURL(/\/dashboard\/accounts\?connect=mastodon&result=connected/);
    await expect(page.getByRole("alert").filter({ hasText: "Mastodon account connected" })).toContainText(`@${second}@${new URL(instance).hostname} is connected`);
    await expect(accounts.getByRole("row")).toHaveCount(3);
  });

  await test.step("a crafted link names no account the server does not list", async () => {
    await page.goto("/dashboard/accounts?connect=mastodon&result=connected&handle=attacker&account=00000000-0000-4000-8000-000000000000");
    await expect(accounts.getByRole("row")).toHaveCount(3); // the list has loaded
    const notice = page.getByRole("alert").filter({ hasText: "Mastodon account connected" });
    await expect(notice).toContainText("The account is connected");
    await expect(notice).not.toContainText("attacker");
  });

  await test.step("declining on the instance lands back on the accounts page saying so", async () => {
    await page.getByRole("button", { name: "Dismiss" }).click();
    await page.getByLabel("Your instance").fill(instance);
    await page.getByRole("button", { name: "Connect Mastodon" }).click();
    await page.getByLabel("Signed in as").fill(unique("declines"));
    await page.getByRole("button", { name: "Deny" }).click();
    const notice = page.getByRole("alert").filter({ hasText: "The Mastodon account was not connected" });
    await expect(notice).toContainText("You declined on the platform");
    await expect(accounts.getByRole("row")).toHaveCount(3); // the header and the two accounts
  });
});

test("a user connects a Bluesky account with an app password, and is told when it is wrong", async ({ page, request }) => {
  const handle = `${unique("sky").replace("_", "")}.bsky.test`;
  const created = await request.post(`${fakes().bluesky}/admin/accounts`, { data: { handle } });
  expect(created.status()).toBe(201);
  const { appPassword } = await created.json();
  const accounts = page.getByRole("table", { name: "Social accounts" });
  await signUpToAccounts(page);

  await test.step("a wrong app password is refused next to its field, and nothing is added", async () => {
    await page.getByLabel("Bluesky account").fill(handle);
    await page.getByLabel("App password").fill("aaaa-bbbb-cccc-dddd");
    await page.getByRole("button", { name: "Connect Bluesky" }).click();
    await expect(page.getByLabel("App password")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByText("Bluesky did not accept this app password")).toBeVisible();
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
  });

  await test.step("the right one connects the account", async () => {
    await page.getByLabel("App password").fill(appPassword);
    await page.getByRole("button", { name: "Connect Bluesky" }).click();
    // The page's own status line (the app-wide announcer is a status region too).
    await expect(page.getByRole("status").filter({ hasText: `@${handle} is connected` })).toBeVisible();
    const row = accounts.getByRole("row").filter({ hasText: `@${handle}` });
    await expect(row).toContainText("Bluesky");
    await expect(row).toContainText("Connected");
  });
});
