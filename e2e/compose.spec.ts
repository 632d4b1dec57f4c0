// The compose page end to end: a post for a sandbox and a Bluesky account (on the local fake), each
// platform's preview and count going over Bluesky's limit and back, a schedule at 09:00 tomorrow in
// the user's saved zone found in the queue at the right UTC instant, a draft saved and reopened, and a
// thread of two for Bluesky whose second part is over the limit, then fixed and queued with its thread.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect as baseExpect, test, type Page } from "@playwright/test";

const dev = process.env.PACER_NEXT_MODE === "dev";
// `next dev` compiles each page and route on first use: minutes on a busy machine.
const expect = baseExpect.configure({ timeout: dev ? 120_000 : 10_000 });
test.setTimeout(dev ? 1_200_000 : 120_000);
const unique = (label: string) => `${label}_${Math.random().toString(36).slice(2, 8)}`;

function blueskyFake(): string {
  return JSON.parse(readFileSync(join(process.env.PACER_E2E_DATA_DIR!, "platforms.json"), "utf8")).bluesky;
}

/** Tomorrow's date in `zone` (YYYY-MM-DD), whatever the machine's zone. */
function tomorrowIn(zone: string): string {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

test("compose a post for two platforms, see each count, schedule it in the saved zone, and keep a draft", async ({ page, request }) => {
  const sandboxHandle = unique("compose");
  const skyHandle = `${unique("sky").replace("_", "")}.bsky.test`;
  const made = await request.post(`${blueskyFake()}/admin/accounts`, { data: { handle: skyHandle } });
  expect(made.status()).toBe(201);
  const { appPassword } = await made.json();
  const text = page.getByLabel("Text", { exact: true });
  const blueskyCard = page.getByTestId("preview-bluesky");

  await test.step("a new subscriber connects a sandbox and a Bluesky account", async () => {
    await page.goto("/sign-up");
    await page.getByLabel("Email").fill(`${unique("compose")}@example.com`);
    await page.getByLabel("Password").fill("pacer-e2e-password");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await nav(page, "Accounts");
    await page.getByLabel("Handle").fill(sandboxHandle);
    await page.getByRole("button", { name: "Add account" }).click();
    await page.getByLabel("Bluesky account").fill(skyHandle);
    await page.getByLabel("App password").fill(appPassword);
    await page.getByRole("button", { name: "Connect Bluesky" }).click();
    const accounts = page.getByRole("table", { name: "Social accounts" });
    await expect(accounts).toContainText(`@${sandboxHandle}`);
    await expect(accounts).toContainText(`@${skyHandle}`);
  });

  await test.step("queueing an empty post says what is missing and puts the keyboard on the first field", async () => {
    await nav(page, "Compose");
    await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(text).toBeFocused();
    await expect(text).toHaveAttribute("aria-invalid", "true");
    await expect(text).toHaveAccessibleDescription("Write the post's text.");
    await expect(page.getByText("Choose at least one account.")).toBeVisible();
  });

  await test.step("each chosen platform gets a preview; over Bluesky's 300 the count turns red with the reason", async () => {
    await page.getByRole("checkbox", { name: new RegExp(`^@${sandboxHandle}`) }).check();
    await page.getByRole("checkbox", { name: new RegExp(`^@${skyHandle}`) }).check();
    await expect(page.getByText("2 of 2 accounts selected")).toBeVisible();
    await expect(page.getByTestId("preview-sandbox")).toBeVisible();
    await text.fill("z".repeat(301));
    await expect(page.getByTestId("count-bluesky-text")).toHaveText("Text: 301 / 300 characters as you see them");
    await expect(page.getByTestId("count-bluesky-text")).toHaveClass(/text-destructive/);
    const reason = "The text is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out.";
    await expect(blueskyCard).toContainText(reason);
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(text).toBeFocused();
    await expect(text).toHaveAccessibleDescription(reason);
  });

  const postText = `Tomorrow at nine, from the composer ${unique("t")}`;
  const day = tomorrowIn("Asia/Tokyo");

  await test.step("fixing the text clears the count", async () => {
    await text.fill(postText);
    await expect(page.getByTestId("count-bluesky-text")).toHaveText(`Text: ${postText.length} / 300 characters as you see them`);
    await expect(page.getByTestId("count-bluesky-text")).not.toHaveClass(/text-destructive/);
    await expect(blueskyCard).toContainText(postText);
  });

  await test.step("the user saves Asia/Tokyo as their zone and schedules 09:00 tomorrow there", async () => {
    await page.getByLabel("At a time").check();
    await page.getByRole("button", { name: "Change time zone" }).click();
    await page.getByLabel("Time zone", { exact: true }).selectOption("Asia/Tokyo");
    await page.getByRole("button", { name: "Save time zone" }).click();
    await expect(page.getByTestId("time-zone-setting")).toContainText("Times are in Asia/Tokyo (your setting).");
    await page.getByLabel("Date and time (Asia/Tokyo)").fill(`${day}T09:00`);
    await expect(page.getByTestId("compose-utc")).toHaveText(`That is ${day} 00:00 UTC.`);
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(page.getByTestId("compose-notice")).toContainText("Queued for 2 accounts");
    await expect(text).toHaveValue("");
  });

  await test.step("the queue shows it at 00:00 UTC, with each platform's count and the full text", async () => {
    await nav(page, "Queue");
    await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
    const rows = page.getByRole("table", { name: "Queue" }).getByRole("row").filter({ hasText: postText });
    await expect(rows).toHaveCount(2);
    for (const row of await rows.all()) {
      await expect(row.locator("time").first()).toHaveAttribute("datetime", `${day}T00:00:00.000Z`);
    }
    const skyRow = rows.filter({ hasText: `@${skyHandle}` });
    await expect(skyRow).toContainText(`${postText.length} / 300`);
    // The full text is in the row's detail, opened by its Details button.
    await skyRow.getByRole("button", { name: /^Details/ }).click();
    await expect(page.getByRole("region", { name: "The post" })).toContainText(postText);
  });

  await test.step("a time already past is a choice, not a silent publish", async () => {
    await nav(page, "Compose");
    // Wait until the composer has replaced the queue page.
    await expect(page.getByRole("heading", { name: "Compose", level: 1 })).toBeVisible();
    await text.fill(`Too late ${unique("p")}`);
    await page.getByRole("checkbox", { name: new RegExp(`^@${sandboxHandle}`) }).check();
    await page.getByLabel("At a time").check();
    await page.getByLabel("Date and time (Asia/Tokyo)").fill("2020-01-01T09:00");
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(page.getByTestId("compose-past")).toContainText("has already passed");
    await page.getByRole("button", { name: "Change the time" }).click();
    await expect(page.getByLabel("Date and time (Asia/Tokyo)")).toBeFocused();
  });

  await test.step("a draft is saved, left, reopened and queued, and then no longer a draft", async () => {
    const draftText = `A thought for later ${unique("d")}`;
    await text.fill(draftText);
    await page.getByLabel("As soon as possible").check();
    await page.getByRole("button", { name: "Save as draft" }).click();
    await expect(page.getByTestId("compose-notice")).toContainText("Draft saved");
    await page.getByRole("button", { name: "New post" }).click();
    await expect(text).toHaveValue("");
    const drafts = page.getByRole("list", { name: "Drafts" });
    await expect(drafts.getByTestId("draft")).toHaveCount(1);
    await page.reload();
    await drafts.getByRole("button", { name: /^Open draft/ }).click();
    await expect(text).toHaveValue(draftText);
    await expect(text).toBeFocused();
    await expect(page.getByRole("checkbox", { name: new RegExp(`^@${sandboxHandle}`) })).toBeChecked();
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(page.getByTestId("compose-notice")).toContainText("Queued for 1 account");
    await expect(page.getByText("No drafts.")).toBeVisible();
  });

  await test.step("a thread refuses the sandbox at once, counts each part for Bluesky, and is queued whole", async () => {
    const first = `A thread, part one ${unique("th")}`;
    const second = `And part two ${unique("th")}`;
    await text.fill(first);
    await page.getByRole("checkbox", { name: new RegExp(`^@${sandboxHandle}`) }).check();
    await page.getByRole("checkbox", { name: new RegExp(`^@${skyHandle}`) }).check();
    await page.getByRole("button", { name: "Make it a thread" }).click();
    const part = page.getByLabel("Part 2 of the thread");
    await expect(part).toBeFocused();
    // A thread and a first comment are replies side by side: one or the other.
    await expect(page.getByLabel(/^First comment/)).toBeDisabled();
    const problems = page.getByTestId("compose-thread-problems");
    await expect(problems).toHaveText(
      "Pacer cannot post a thread to Sandbox: only to Mastodon and Bluesky accounts. Queue the Sandbox accounts as a separate post without the thread, or join the parts into one text.",
    );
    await page.getByRole("checkbox", { name: new RegExp(`^@${sandboxHandle}`) }).uncheck();
    await expect(problems).toHaveText("");

    await part.fill("y".repeat(301));
    const counter = page.getByTestId("count-bluesky-thread-0");
    await expect(counter).toHaveText("Part 2: 301 / 300 characters as you see them");
    await expect(counter).toHaveClass(/text-destructive/);
    const reason = "Part 2 of the thread is 301 characters as Bluesky counts them; Bluesky allows 300. Shorten it, or leave the Bluesky accounts out.";
    await expect(blueskyCard).toContainText(reason);
    await expect(blueskyCard).toContainText(first);
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(part).toBeFocused();
    await expect(part).toHaveAccessibleDescription(reason);

    await part.fill(second);
    await expect(counter).toHaveText(`Part 2: ${second.length} / 300 characters as you see them`);
    await expect(counter).not.toHaveClass(/text-destructive/);
    await expect(blueskyCard).toContainText(second);
    await page.getByRole("button", { name: "Queue post" }).click();
    await expect(page.getByTestId("compose-notice")).toContainText("Queued for 1 account");
    await expect(page.getByLabel("Part 2 of the thread")).toHaveCount(0);

    const res = await page.request.get("/api/queue/items?limit=200");
    expect(res.status()).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ text: string; thread: string[]; handle: string; platform: string }> };
    const queued = items.filter((i) => i.text === first);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ platform: "bluesky", thread: [second] });
  });
});

/** Presses Tab until `target` has the focus (as a keyboard user would reach it), at most `max` times. */
async function tabTo(page: Page, target: ReturnType<Page["locator"]>, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  await expect(target).toBeFocused();
}

test("keyboard only: write a post, pick its account and queue it, without a pointer", async ({ page }) => {
  const handle = unique("keys");
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(`${unique("keys")}@example.com`);
  await page.getByLabel("Password").fill("pacer-e2e-password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await nav(page, "Accounts");
  await page.getByLabel("Handle").fill(handle);
  await page.getByRole("button", { name: "Add account" }).click();
  await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);

  await page.goto("/dashboard/compose");
  await expect(page.getByRole("checkbox", { name: new RegExp(`^@${handle}`) })).toBeVisible();
  const postText = `Typed, never clicked ${unique("k")}`;
  await tabTo(page, page.getByLabel("Text", { exact: true }));
  await page.keyboard.type(postText);
  const account = page.getByRole("checkbox", { name: new RegExp(`^@${handle}`) });
  await tabTo(page, account);
  await page.keyboard.press("Space");
  await expect(account).toBeChecked();
  await tabTo(page, page.getByRole("button", { name: "Queue post" }));
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("compose-notice")).toContainText("Queued for 1 account");
  await expect(page.getByLabel("Text", { exact: true })).toHaveValue("");
});
