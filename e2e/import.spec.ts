// The import page end to end: a Free workspace is told which plan imports; on Starter, a CSV with
// errors lists its bad rows by row, column and reason (and downloads them with formula cells
// escaped), its good row imports, the fixed file is recognised and queues only the fixed rows, the
// same file again queues nothing twice, and the posts are in the queue once each.
import { readFileSync } from "node:fs";
import { expect as baseExpect, test, type Page } from "@playwright/test";

// `next dev` compiles each page and action on first use, which can take longer than the default 5 s.
const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });

const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

const csv = (lines: string[]) => ({ name: "posts.csv", mimeType: "text/csv", buffer: Buffer.from(lines.join("\r\n") + "\r\n") });

async function downloaded(page: Page, click: () => Promise<void>): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), click()]);
  return readFileSync((await download.path())!, "utf8");
}

// Several pages, two imports and two downloads; `next dev` compiles each on first use.
test.setTimeout(process.env.PACER_NEXT_MODE === "dev" ? 600_000 : 120_000);

test("a CSV with errors lists its bad rows; the fixed file imports once, with a summary, into the queue", async ({ page }) => {
  const id = suffix();
  const handle = `import_${id.replace(/\W/g, "_")}`;
  const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const texts = [`First imported post ${id}`, `-50% off today ${id}`, `Third imported post ${id}`];
  const file = page.getByLabel("CSV file");
  const problems = page.getByRole("table", { name: "Rows with problems" });

  await test.step("a new subscriber connects a sandbox account", async () => {
    await signUp(page, `import-${id}@example.com`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    await page.getByLabel("Handle").fill(handle);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
  });

  await test.step("on the Free plan the import page says which plan includes importing", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Import" }).click();
    await expect(page.getByRole("heading", { name: "Import", level: 1 })).toBeVisible();
    await expect(page.getByTestId("import-plan-notice")).toContainText("Bulk import is part of Starter and above");
    await expect(page.getByTestId("import-plan-notice")).toContainText("This workspace is on the Free plan.");
  });

  await test.step("the template downloads with every column and the account filled in", async () => {
    const template = await downloaded(page, () => page.getByRole("button", { name: "Download the template" }).click());
    expect(template.startsWith("\uFEFF")).toBe(true);
    expect(template).toContain('"text","accounts","scheduled_at","timezone","media_urls","first_comment","destination","priority"');
    expect(template).toContain(`"sandbox:${handle}"`);
  });

  await test.step("after upgrading to Starter the notice is gone", async () => {
    await page.goto("/dashboard/billing");
    await page.getByRole("button", { name: "Upgrade to Starter" }).click();
    await expect(page.getByTestId("plan-change-done")).toContainText("Starter plan");
    await page.goto("/dashboard/import");
    await expect(page.getByRole("heading", { name: "Recent imports" })).toBeVisible();
    await expect(page.getByTestId("import-plan-notice")).toHaveCount(0);
  });

  await test.step("a file with errors lists each bad row with its row, column and reason", async () => {
    await file.setInputFiles(
      csv([
        "Text,Accounts,Scheduled_At,Priority",
        `${texts[0]},sandbox:${handle},${tomorrow},5`,
        `${texts[1]},sandbox:nobody_${id.replace(/\W/g, "_")},${tomorrow},5`,
        `${texts[2]},sandbox:${handle},2026-02-30 10:00,11`,
      ]),
    );
    await expect(page.getByTestId("import-preview-summary")).toContainText("posts.csv: 1 row ready to import, 2 rows with problems.");
    const rows = problems.getByRole("row");
    await expect(rows).toHaveCount(4);
    await expect(rows.nth(1)).toHaveText(`3accountsThere is no sandbox account @nobody_${id.replace(/\W/g, "_")} in this workspace.`);
    await expect(rows.nth(2)).toHaveText(`4scheduled_at"2026-02-30 10:00" is not a real date and time; write one like 2026-12-01 09:30 or 2026-12-01T09:30:00+01:00.`);
    await expect(rows.nth(3)).toHaveText("4priorityPriority is a whole number from 1 (lowest) to 10 (highest).");
  });

  await test.step("the bad rows download with a problems column, a cell starting with - escaped", async () => {
    const bad = await downloaded(page, () => page.getByRole("button", { name: "Download the bad rows (CSV)" }).click());
    expect(bad).toContain('"Text","Accounts","Scheduled_At","Priority","problems"');
    expect(bad).toContain(`"'${texts[1]}"`);
    expect(bad).toContain("accounts: There is no sandbox account");
  });

  await test.step("the good row imports without the bad ones", async () => {
    await page.getByRole("button", { name: "Import 1 post" }).click();
    await expect(page.getByTestId("import-summary")).toContainText(
      "1 row imported (1 queue item), 0 rows already imported before, 2 rows with problems not imported.",
    );
  });

  await test.step("the fixed file is recognised and queues only the fixed rows", async () => {
    const fixed = csv([
      "Text,Accounts,Scheduled_At,Priority",
      `${texts[0]},sandbox:${handle},${tomorrow},5`,
      `'${texts[1]},sandbox:${handle},${tomorrow},5`,
      `${texts[2]},sandbox:${handle},${tomorrow},8`,
    ]);
    await file.setInputFiles(fixed);
    await expect(page.getByTestId("import-preview-summary")).toContainText("posts.csv: 3 rows ready to import, 0 rows with problems.");
    await expect(problems).toHaveCount(0);
    // Its bytes differ from the first file's, yet its unchanged row is known to be queued already.
    await expect(page.getByTestId("import-earlier")).toContainText("1 row of this file is already queued");
    await page.getByRole("button", { name: "Import 3 posts" }).click();
    await expect(page.getByTestId("import-summary")).toContainText(
      "2 rows imported (2 queue items), 1 row already imported before, 0 rows with problems not imported.",
    );
    const recent = page.getByRole("table", { name: "Recent imports" });
    await expect(recent.getByRole("row").filter({ hasText: "posts.csv" })).toHaveCount(2);

    // The same file again (a second click, a reload): Pacer recognises it and queues nothing twice.
    await file.setInputFiles(fixed);
    await expect(page.getByTestId("import-earlier")).toContainText("3 rows of this file are already queued");
    await page.getByRole("button", { name: "Import 3 posts" }).click();
    await expect(page.getByTestId("import-summary")).toContainText(
      "0 rows imported (0 queue items), 3 rows already imported before, 0 rows with problems not imported.",
    );
    await expect(recent.getByRole("row").filter({ hasText: "posts.csv" })).toHaveCount(2);
  });

  await test.step("the posts are in the queue, once each, the leading - kept", async () => {
    await page.getByRole("link", { name: "See the queue" }).click();
    const queue = page.getByRole("table", { name: "Queue" });
    for (const text of texts) await expect(queue.getByRole("row").filter({ hasText: text })).toHaveCount(1);
    await expect(queue.getByRole("row").filter({ hasText: texts[1] })).toContainText("Pending");
    await expect(page.getByTestId("stat-total-value")).toHaveText("3");
  });
});
