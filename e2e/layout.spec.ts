// The app's frame at a phone's and a desktop's width: every page fits without sideways scrolling at 320,
// 390 and 1440 px and has no WCAG 2.1 A/AA violations axe-core can find; the phone menu works by keyboard;
// tables fit their box (cards on a phone); the skip link reaches the page's content; links, nav items, selects and checkboxes show a focus ring.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect as baseExpect, test, type BrowserContext, type Page } from "@playwright/test";

// `next dev` compiles each page on first use, which can take longer than the default 5 s.
const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });
const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

const viewports = [
  { width: 320, height: 740 },
  { width: 390, height: 844 },
  { width: 1440, height: 900 },
];

/**
 * Every dashboard page, by its h1. `owner` names the helper rebuilding a page in issue 12 (its layout is
 * theirs); the assertions are the same for every page.
 */
const pages: { path: string | ((world: World) => string); heading: string; owner?: string }[] = [
  { path: "/dashboard", heading: "Dashboard", owner: "home page" },
  { path: "/dashboard/compose", heading: "Compose" },
  { path: "/dashboard/queue", heading: "Queue", owner: "queue management" },
  { path: "/dashboard/calendar", heading: "Calendar" },
  { path: "/dashboard/import", heading: "Import" },
  { path: "/dashboard/approvals", heading: "Approvals" },
  { path: "/dashboard/review", heading: "Review" },
  { path: "/dashboard/accounts", heading: "Accounts", owner: "accounts at scale" },
  { path: "/dashboard/health", heading: "Health" },
  { path: (world) => `/dashboard/health/${world.accountId}`, heading: "" },
  { path: "/dashboard/team", heading: "Team" },
  { path: "/dashboard/billing", heading: "Billing" },
  { path: "/dashboard/webhooks", heading: "Webhooks" },
  { path: "/dashboard/api-keys", heading: "API keys" },
  // Fails today on Swagger UI's own markup (color-contrast, nested-interactive, select-name): see the report.
  { path: "/dashboard/api-reference", heading: "API reference" },
  { path: "/dashboard/audit", heading: "Audit log" },
  { path: "/dashboard/ops", heading: "Ops" },
];

interface World {
  handle: string;
  accountId: string;
}

/** Where the sandbox listens: local/dev.ts writes it into the run's data folder (its port is a free one). */
function sandbox(): { url: string } {
  return JSON.parse(readFileSync(join(process.env.PACER_E2E_DATA_DIR!, "sandbox-address.json"), "utf8"));
}

/** Fails naming how far the page reaches past the window, so the report says which page and width. */
async function expectNoSidewaysScroll(page: Page, where: string, check = expect) {
  const { scrollWidth, innerWidth, widest } = await page.evaluate(() => {
    // The element reaching furthest right, to say what to fix.
    let widest = "";
    let right = window.innerWidth;
    for (const element of document.querySelectorAll("body *")) {
      const box = element.getBoundingClientRect();
      if (box.right > right + 0.5) {
        right = box.right;
        widest = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ""}.${[...element.classList].slice(0, 4).join(".")} (${Math.round(box.right)} px)`;
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, widest };
  });
  check(scrollWidth, `${where}: the page is ${scrollWidth} px wide in a ${innerWidth} px window; widest: ${widest}`).toBeLessThanOrEqual(innerWidth);
}

/** Every table fits its box: nothing (its actions least of all) sits out of sight in a sideways-scrolling container. */
async function expectTablesFit(page: Page, where: string, check = expect) {
  const clipped = await page.evaluate(() =>
    [...document.querySelectorAll("main table")]
      .filter((table) => table.getBoundingClientRect().width > table.parentElement!.clientWidth + 1)
      .map((table) => `${table.getAttribute("aria-label") ?? "a table"} (${Math.round(table.getBoundingClientRect().width)} px in ${table.parentElement!.clientWidth} px)`),
  );
  check(clipped, `${where}: tables wider than their box`).toEqual([]);
}

async function expectNoAxeViolations(page: Page, where: string, check = expect) {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  check(found, `${where}: axe found ${found.length} violation(s):\n${found.join("\n")}`).toEqual([]);
}

/** Waits until the page's data has arrived: its heading is up and no section says it is loading. */
async function settled(page: Page, heading: string) {
  if (heading) await expect(page.getByRole("heading", { name: heading, level: 1 })).toBeVisible();
  else await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: /^Loading/ })).toHaveCount(0);
  await page.waitForLoadState("networkidle");
}

test("the sign-in and sign-up pages fit a phone and a desktop with no accessibility violations", async ({ page }) => {
  test.setTimeout(120_000);
  for (const path of ["/sign-in", "/sign-up"]) {
    for (const viewport of viewports) {
      await page.setViewportSize(viewport);
      await page.goto(path);
      await expect(page.getByLabel("Email")).toBeVisible();
      const where = `${path} at ${viewport.width} px`;
      await expectNoSidewaysScroll(page, where, expect.soft);
      await expectNoAxeViolations(page, where, expect.soft);
    }
  }
});

// One signed-in page for every test here (signing up per page would be slow); a failed test starts a new
// worker, which signs up afresh.
test.describe("signed in", () => {
  let context: BrowserContext;
  let page: Page;
  const world: World = { handle: "", accountId: "" };

  test.beforeAll(async ({ browser }) => {
    test.setTimeout(180_000);
    // From a context of its own: AxeBuilder refuses a page made by browser.newPage().
    context = await browser.newContext();
    page = await context.newPage();
    const id = suffix();
    world.handle = `layout_${id.replace(/\W/g, "_")}`;
    await page.goto("/sign-up");
    await page.getByLabel("Email").fill(`layout-${id}@example.com`);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);

    // Something on every page: an account, a post published and one waiting, a draft, an invitation,
    // a webhook endpoint and an API key.
    const post = async (url: string, data: object, status = 201) => {
      const response = await page.request.post(url, { headers: sameOrigin(page), data });
      expect(response.status(), `POST ${url}: ${await response.text()}`).toBe(status);
      return response.json();
    };
    world.accountId = (await post("/api/accounts", { platform: "sandbox", handle: world.handle })).account.id;
    await post("/api/queue/add", { text: `Published from the layout scene ${id}`, accountIds: [world.accountId] });
    await post("/api/queue/process", {}, 200);
    const later = new Date(Date.now() + 3 * 60 * 60_000).toISOString();
    const waiting = `A longer post waiting for its time, so the tables have something wide to hold ${id}`;
    await post("/api/queue/add", { text: waiting, accountIds: [world.accountId], scheduledFor: later });
    await post("/api/drafts", { content: { text: `A draft from the layout scene ${id}`, accountIds: [world.accountId] } });
    await post("/api/team/invitations", { email: `invitee-${id}@example.com`, role: "editor" });
    const inbox = `${sandbox().url}/v1/webhook-inbox/layout_${id.replace(/\W/g, "_")}`;
    await post("/api/webhooks", { url: inbox, events: ["post.published"], description: "Layout scene" });
    await post("/api/keys", { name: "Layout scene key", scopes: ["read"] });
  });

  test.afterAll(async () => {
    await context?.close();
  });

  for (const entry of pages) {
    const label = typeof entry.path === "string" ? entry.path : "/dashboard/health/[accountId]";
    const owner = entry.owner ? ` (layout: ${entry.owner} helper)` : "";
    test(`${label} fits 320, 390 and 1440 px with no accessibility violations${owner}`, async () => {
      test.setTimeout(120_000);
      const path = typeof entry.path === "string" ? entry.path : entry.path(world);
      for (const viewport of viewports) {
        await page.setViewportSize(viewport);
        await page.goto(path);
        await settled(page, entry.heading);
        const where = `${label} at ${viewport.width} px`;
        // Soft: one run reports every width's problems.
        await expectNoSidewaysScroll(page, where, expect.soft);
        await expectTablesFit(page, where, expect.soft);
        await expectNoAxeViolations(page, where, expect.soft);
      }
    });
  }

  test("on a phone the Menu opens the navigation by keyboard, goes to a page and closes; Escape closes it too", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/dashboard/compose");
    await settled(page, "Compose");
    const menu = page.getByRole("button", { name: "Menu" });
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(nav).toBeHidden();
    // The signed-in email and Sign out live in the menu on a phone.
    await expect(page.getByRole("button", { name: "Sign out" })).toBeHidden();

    await menu.focus();
    await page.keyboard.press("Enter");
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    await expect(nav).toBeVisible();
    for (const group of ["Publish", "Accounts", "Workspace"]) await expect(nav.getByRole("list", { name: group })).toBeVisible();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
    await expectNoSidewaysScroll(page, "the open menu at 390 px");
    // Focus is inside, on the current page's link.
    await expect(nav.getByRole("link", { name: "Compose" })).toBeFocused();

    await page.keyboard.press("Escape");
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(nav).toBeHidden();
    await expect(menu).toBeFocused();

    await page.keyboard.press("Enter");
    await expect(nav.getByRole("link", { name: "Compose" })).toBeFocused();
    // Tab on to Queue (the next link) and follow it.
    await page.keyboard.press("Tab");
    await expect(nav.getByRole("link", { name: "Queue" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/dashboard\/queue$/);
    await expect(page.getByRole("heading", { name: "Queue", level: 1 })).toBeVisible();
    await expect(menu).toHaveAttribute("aria-expanded", "false");
    await expect(nav).toBeHidden();
    await expect(page.locator("main#content")).toBeFocused();

    await page.setViewportSize({ width: 1440, height: 900 });
    await expect(menu).toBeHidden();
    await expect(nav).toBeVisible();
    await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  });

  test("the skip link is the first stop for the keyboard and moves focus to the page's content", async () => {
    for (const viewport of [{ width: 320, height: 740 }, { width: 1440, height: 900 }]) {
      await page.setViewportSize(viewport);
      await page.goto("/dashboard/billing");
      await settled(page, "Billing");
      await page.keyboard.press("Tab");
      const skip = page.getByRole("link", { name: "Skip to content" });
      await expect(skip).toBeFocused();
      await expect(skip).toBeInViewport();
      await page.keyboard.press("Enter");
      await expect(page.locator("main#content")).toBeFocused();
      // The next Tab lands inside the content, past the navigation.
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.querySelector("main")!.contains(document.activeElement))).toBe(true);
    }
  });

  test("links, nav items, selects and checkboxes show a focus ring when reached by keyboard", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto("/dashboard/compose");
    await settled(page, "Compose");
    const ringOf = (selector: string) =>
      page.evaluate((s) => {
        const element = document.querySelector(s) as HTMLElement;
        const style = getComputedStyle(element);
        // At least 2 px: the browser's own 1 px ring in the theme's pale ring colour is what this replaced.
        return { outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2, shadow: style.boxShadow !== "none" };
      }, selector);
    // Reach each by keyboard (focus-visible), then read its computed outline or ring.
    const reach = async (selector: string) => {
      await page.locator(selector).first().focus();
      await page.keyboard.press("Shift+Tab");
      await page.keyboard.press("Tab");
      await expect(page.locator(`${selector}:focus-visible`).first()).toBeFocused();
      const ring = await ringOf(`${selector}:focus-visible`);
      expect(ring.outline || ring.shadow, `${selector} shows no focus ring`).toBe(true);
    };
    await reach('nav[aria-label="Main"] a[href="/dashboard/queue"]');
    await reach('main input[type="checkbox"]');
    await reach("main select");
    await page.goto("/dashboard/api-keys");
    await settled(page, "API keys");
    await reach('main a[href="/dashboard/api-reference"]');
  });
});
