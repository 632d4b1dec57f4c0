// A subscriber's first visit: sign up, connect a sandbox account within the plan, rename it, remove it, sign out.
// Removing keeps the record (the confirmation says what happens to the posts; a posted one stays in the
// queue marked as a removed account); 1,000 accounts are searched, paged and paused in bulk, at a
// phone's width and a desktop's.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import postgres from "postgres";

// `next dev` compiles each page and action on first use, which can take longer than the default 5 s.
const dev = process.env.PACER_NEXT_MODE === "dev";
const expect = baseExpect.configure({ timeout: dev ? 60_000 : 10_000 });
// Seeding and pausing 1,000 accounts, and `next dev` compiling each page on first use, outlast the default 30 s.
test.setTimeout(dev ? 600_000 : 120_000);

/** The test stack's database (playwright.config.ts picks its port): 1,000 accounts are seeded there in one statement. */
function database() {
  const [port] = process.env.PACER_E2E_PORTS!.split(",").map(Number);
  return postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
}

async function noSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

// A tab of Pacer calling its API sends its Origin; a cookie-authenticated change without one is refused.
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

const password = "pacer-e2e-password";

function uniqueEmail() {
  return `subscriber-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

test("a new subscriber connects a sandbox account, renames it and removes it, with usage counted against the plan", async ({
  page,
}) => {
  const email = uniqueEmail();
  const usage = page.getByTestId("usage-summary");
  const meter = page.getByRole("meter", { name: "Social accounts used" });
  const accounts = page.getByRole("table", { name: "Social accounts" });
  // Handles are the sandbox's account names, shared by every test (and retry) against this stack.
  const demo = `pacer_demo_${Math.random().toString(36).slice(2, 8)}`;
  const demoRow = accounts.getByRole("row").filter({ hasText: `@${demo}` });

  await test.step("signed out, the dashboard sends the visitor to sign in", async () => {
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
  });

  await test.step("signing up lands on the dashboard, signed in", async () => {
    await page.getByRole("link", { name: "Sign up" }).click();
    await expect(page.getByRole("heading", { name: "Create your Pacer account" })).toBeVisible();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    await expect(page.getByTestId("signed-in-email")).toHaveText(email);
  });

  await test.step("the accounts page starts empty with all 10 accounts of the Free plan available", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
    await expect(page.getByRole("heading", { name: "Accounts", level: 1 })).toBeVisible();
    await expect(usage).toHaveText("0 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "0");
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
  });

  await test.step("adding a sandbox account lists it and counts it", async () => {
    // The add form's own Platform (the list below has a Platform filter too).
    await expect(page.getByRole("form", { name: "Add an account" }).getByLabel("Platform")).toHaveValue("sandbox");
    await page.getByLabel("Handle").fill(`@${demo}`);
    await page.getByLabel("Display name").fill("Pacer Demo");
    await page.getByRole("button", { name: "Add account" }).click();

    await expect(demoRow).toContainText("Pacer Demo");
    await expect(demoRow).toContainText("Sandbox");
    await expect(demoRow).toContainText("Connected");
    await expect(demoRow).toContainText("100/100");
    await expect(usage).toHaveText("1 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "1");
    await expect(page.getByLabel("Handle")).toHaveValue("");
  });

  await test.step("adding the same handle again is refused next to the field", async () => {
    await page.getByLabel("Handle").fill(demo);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByText("This account is already connected.")).toBeVisible();
    await expect(page.getByLabel("Handle")).toHaveAttribute("aria-invalid", "true");
    await expect(usage).toHaveText("1 of 10 accounts used · Free plan");
  });

  await test.step("renaming it inline changes its display name", async () => {
    await page.getByRole("button", { name: `Rename @${demo}` }).click();
    await page.getByRole("textbox", { name: `Display name of @${demo}` }).fill("Pacer Demo Studio");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await expect(demoRow).toContainText("Pacer Demo Studio");
    await expect(page.getByRole("textbox", { name: `Display name of @${demo}` })).toBeHidden();
  });

  await test.step("removing it after confirming frees its place on the plan", async () => {
    await page.getByRole("button", { name: `Remove @${demo}` }).click();
    await page.getByRole("button", { name: "Yes, remove" }).click();
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
    await expect(accounts).toBeHidden();
    await expect(usage).toHaveText("0 of 10 accounts used · Free plan");
    await expect(meter).toHaveAttribute("aria-valuenow", "0");
  });

  await test.step("adding it back asks for its access token: the handle still exists on the sandbox", async () => {
    await page.getByLabel("Handle").fill(demo);
    await page.getByRole("button", { name: "Add account" }).click();
    await expect(page.getByText(`@${demo} already exists on the sandbox`)).toBeVisible();
    await expect(page.getByLabel(/^Access token/)).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
  });

  await test.step("signing out returns to sign-in and closes the dashboard again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/sign-in$/);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
  });
});

test("when the plan's last account slot is taken elsewhere, adding says so and Add account is disabled", async ({
  page,
}) => {
  await signUp(page, uniqueEmail());
  const run = Math.random().toString(36).slice(2, 8);
  // Nine accounts through the HTTP API with the same session, as another tab or a script would.
  for (let i = 1; i <= 9; i++) {
    const response = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle: `brand_${i}_${run}` } });
    expect(response.status()).toBe(201);
  }
  await page.goto("/dashboard/accounts");
  await expect(page.getByTestId("usage-summary")).toHaveText("9 of 10 accounts used · Free plan");

  // The tenth slot is taken while this page still shows one free.
  expect((await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle: `brand_10_${run}` } })).status()).toBe(
    201,
  );
  await page.getByLabel("Handle").fill("one_too_many");
  await page.getByRole("button", { name: "Add account" }).click();

  await expect(page.getByRole("alert").filter({ hasText: "Plan limit reached" })).toContainText(
    "This workspace is on the Free plan, which allows 10 social accounts, and all 10 are in use.",
  );
  await expect(page.getByTestId("usage-summary")).toHaveText("10 of 10 accounts used · Free plan");
  await expect(page.getByTestId("usage-detail")).toHaveText(
    "All 10 accounts the Free plan allows are in use. Remove an account or upgrade the plan to add another.",
  );
  await expect(page.getByRole("meter", { name: "Social accounts used" })).toHaveAttribute("aria-valuenow", "10");
  await expect(page.getByRole("button", { name: "Add account" })).toBeDisabled();
  await expect(page.getByRole("table", { name: "Social accounts" }).getByRole("row")).toHaveCount(11);
});

test("signing in with a wrong password says so in Pacer's words, offers a reset, and stays signed out", async ({
  page,
  browser,
}) => {
  const email = uniqueEmail();
  const other = await browser.newContext();
  await signUp(await other.newPage(), email);
  await other.close();

  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();

  const alert = page.getByRole("alert").filter({ hasText: "Could not sign in" });
  await expect(alert).toContainText("Wrong email or password.");
  await expect(alert.getByRole("link", { name: "Forgot password?" })).toHaveAttribute("href", "/forgot-password");
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fdashboard$/);
});

test("removing an account says what happens to its posts, and its posted item stays in the queue marked as a removed account", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  const run = Math.random().toString(36).slice(2, 8);
  const handle = `removed_${run}`;
  const sql = database();
  try {
    await signUp(page, uniqueEmail());
    const added = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle } });
    expect(added.status()).toBe(201);
    const accountId = (await added.json()).account.id as string;
    const tomorrow = new Date(Date.now() + 24 * 3600_000).toISOString();
    for (const text of [`Waiting one ${run}`, `Waiting two ${run}`, `Posted one ${run}`]) {
      const queued = await page.request.post("/api/queue/add", { headers: sameOrigin(page), data: { text, accountIds: [accountId], scheduledFor: tomorrow } });
      expect(queued.status()).toBe(201);
    }
    // As the engine leaves an item it published.
    await sql`update public.queue_items q set status = 'posted', posted_at = now()
              from public.posts p where p.id = q.post_id and q.account_id = ${accountId} and p.text = ${`Posted one ${run}`}`;

    await page.goto("/dashboard/accounts");
    await expect(page.getByTestId("usage-summary")).toHaveText("1 of 10 accounts used · Free plan");
    await page.getByRole("button", { name: `Remove @${handle}` }).click();
    const confirm = page.getByRole("group", { name: `Remove @${handle}?` });
    await expect(confirm).toContainText(`Remove @${handle}? 2 posts waiting will be cancelled; 1 posted stays in your history.`);
    await noSidewaysScroll(page);
    await confirm.getByRole("button", { name: "Yes, remove" }).click();
    await expect(page.getByRole("status").filter({ hasText: /^Removed/ })).toHaveText(
      new RegExp(`^Removed @${handle}\\. 2 waiting posts were cancelled\\. 1 posted stays in your history\\.`),
    );
    await expect(page.getByText("No social accounts yet.")).toBeVisible();
    await expect(page.getByTestId("usage-summary")).toHaveText("0 of 10 accounts used · Free plan");

    // Listed under "Removed", read-only.
    await page.getByLabel("State").selectOption("removed");
    const removedRow = page.getByRole("table", { name: "Social accounts" }).getByRole("row").filter({ hasText: `@${handle}` });
    await expect(removedRow).toContainText("Removed");
    await expect(removedRow.getByRole("button", { name: /^Remove/ })).toHaveCount(0);

    await page.goto("/dashboard/queue");
    const postedRow = page.getByRole("row").filter({ hasText: `Posted one ${run}` });
    await expect(postedRow).toContainText(`@${handle}`);
    await expect(postedRow).toContainText("Removed account");
    await expect(page.getByRole("row").filter({ hasText: `Waiting one ${run}` })).toContainText("Account removed.");
  } finally {
    await sql.end();
  }
});

for (const viewport of [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1440, height: 900 },
]) {
  test(`1,000 accounts (${viewport.name}): search, pages and a bulk pause answer, with nothing off screen`, async ({ page }) => {
    await page.setViewportSize(viewport);
    const run = Math.random().toString(36).slice(2, 8);
    const email = uniqueEmail();
    const sql = database();
    try {
      await signUp(page, email);
      // Ultra allows 1,000 accounts: the plan set and the accounts seeded as the database's owner, in one statement each.
      const [{ workspace_id: workspaceId }] = await sql`
        select m.workspace_id from public.workspace_members m join auth.users u on u.id = m.user_id where u.email = ${email}`;
      await sql`update public.workspaces set plan_id = 'ultra' where id = ${workspaceId}`;
      await sql`insert into public.social_accounts (workspace_id, platform, handle, display_name, created_at)
                select ${workspaceId}, 'sandbox', 'bulk_' || lpad(g::text, 4, '0') || '_' || ${run}, 'Brand ' || g, now() - (1000 - g) * interval '1 second'
                from generate_series(1, 1000) g`;

      await page.goto("/dashboard/accounts");
      const table = page.getByRole("table", { name: "Social accounts" });
      await expect(page.getByTestId("page-range")).toHaveText("1–50 of 1,000");
      await expect(table.getByRole("row")).toHaveCount(51); // the header and one page
      await noSidewaysScroll(page);
      if (viewport.width >= 1440) {
        // Every row's actions are on screen at a desktop's width, not cut off by the table's box.
        const remove = table.getByRole("button", { name: `Remove @bulk_0001_${run}` });
        await remove.scrollIntoViewIfNeeded();
        await expect(remove).toBeInViewport({ ratio: 1 });
      }

      await test.step("the next page, then a search, answered by the server", async () => {
        await page.getByRole("button", { name: "Next page" }).click();
        await expect(page.getByTestId("page-range")).toHaveText("51–100 of 1,000");
        await expect(table.getByRole("row").filter({ hasText: `@bulk_0051_${run}` })).toBeVisible();
        await page.getByLabel("Search").fill(`bulk_0777_${run}`);
        await expect(page.getByTestId("page-range")).toHaveText("1–1 of 1");
        await expect(table.getByRole("row").filter({ hasText: `@bulk_0777_${run}` })).toContainText("Brand 777");
        await page.getByLabel("Search").fill("");
        await expect(page.getByTestId("page-range")).toHaveText("1–50 of 1,000");
      });

      await test.step("pausing all 1,000 in one action says what it did", async () => {
        await page.getByRole("button", { name: "Select all 1,000 matching" }).click();
        await expect(page.getByTestId("selection-count")).toHaveText("1,000 selected");
        await page.getByRole("button", { name: "Pause selected" }).click();
        await expect(page.getByRole("status").filter({ hasText: /^Paused/ })).toHaveText(/^Paused 1,000 accounts\./);
        await expect(page.getByTestId("selection-count")).toHaveText("0 selected");
        const [{ paused }] = await sql`select count(*)::int as paused from public.social_accounts where workspace_id = ${workspaceId} and state = 'paused'`;
        expect(paused).toBe(1000);
        await page.getByLabel("State").selectOption("paused");
        await expect(page.getByTestId("page-range")).toHaveText("1–50 of 1,000");
        await expect(table.getByRole("row").nth(1)).toContainText("Paused");
      });

      await test.step("at 320 px nothing scrolls sideways either", async () => {
        await page.setViewportSize({ width: 320, height: 740 });
        await noSidewaysScroll(page);
      });
    } finally {
      await sql.end();
    }
  });
}
