// The review queue end to end: a post Pacer could not verify is marked posted with the id a person
// found on the platform, a post that went out twice is listed and acknowledged, and a restricted
// account is listed with a link to its health page.
// At a desktop and at a phone's width.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import { mainNavLink } from "./support/nav";
import postgres from "postgres";

const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });
const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

// The test stack's database (playwright.config.ts picks its port): an item is put in needs_review
// there, as repeated unanswered lookups would have left it, and an account is restricted, as the
// platform's answer would have marked it.
function database() {
  const [port] = process.env.PACER_E2E_PORTS!.split(",").map(Number);
  return postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
}

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: 30_000 });
}

async function noSidewaysScroll(page: Page) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

async function addAccount(page: Page, handle: string): Promise<string> {
  const response = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle } });
  expect(response.status()).toBe(201);
  return (await response.json()).account.id;
}


for (const viewport of [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
]) {
  test(`review (${viewport.name}): a post needing review is marked posted; a restricted account links to its health`, async ({ page }) => {
    await page.setViewportSize(viewport);
    const id = suffix();
    const handle = `review_${id.replace(/\W/g, "_")}`;
    const restrictedHandle = `restricted_${id.replace(/\W/g, "_")}`;
    const text = `Did this go out? ${id}`;
    const sql = database();
    try {
      let itemId = 0;
      let restrictedId = "";
      await test.step("a subscriber's post could not be verified, and another of their accounts was restricted", async () => {
        await signUp(page, `review-${id}@example.com`);
        const accountId = await addAccount(page, handle);
        restrictedId = await addAccount(page, restrictedHandle);
        // Scheduled ahead, so the minute's processing leaves it alone before it is put in review.
        const added = await page.request.post("/api/queue/add", {
          headers: sameOrigin(page),
          data: { text, accountIds: [accountId], scheduledFor: new Date(Date.now() + 3_600_000).toISOString() },
        });
        expect(added.status()).toBe(201);
        itemId = Number((await added.json()).items[0].id);
        await sql`update public.queue_items set status = 'needs_review', attempts = 1, verify_attempts = 3,
                    last_error = 'The platform could not be asked whether the post landed.' where id = ${itemId}`;
        await sql`update public.social_accounts set state = 'restricted', last_error = 'The platform restricted this account.'
                  where id = ${restrictedId}`;
      });

      const post = page.getByRole("listitem", { name: `Post #${itemId} to @${handle}` });
      await test.step("the review page lists the post with its error, and the restricted account", async () => {
        const link = await mainNavLink(page, "Review");
        await link.click();
        await expect(page.getByRole("heading", { name: "Review", level: 1 })).toBeVisible();
        await expect(link).toHaveAttribute("aria-current", "page");
        await expect(post).toContainText(text);
        await expect(post).toContainText("The platform could not be asked whether the post landed.");
        const accounts = page.getByRole("table", { name: "Accounts needing review" });
        await expect(accounts.getByRole("row").filter({ hasText: `@${restrictedHandle}` })).toContainText("Restricted");
        await expect(page.getByText("No posted record has gone missing.")).toBeVisible();
        await expect(page.getByText("No post went out twice.")).toBeVisible();
        await noSidewaysScroll(page);
      });

      await test.step("mark posted needs the post's id or URL, then records it", async () => {
        // Retry never goes out on one click: it says it sends again unasked, and can be taken back.
        await post.getByRole("button", { name: `Retry #${itemId} to @${handle}` }).click();
        const ask = post.getByRole("alertdialog", { name: `Retry #${itemId} to @${handle}?` });
        await expect(ask).toContainText("Retry sends it again without asking the platform first");
        await ask.getByRole("button", { name: "Keep it in review" }).click();
        await expect(ask).toHaveCount(0);
        await post.getByLabel("Post id or URL").fill("");
        await post.getByRole("button", { name: `Mark #${itemId} to @${handle} posted` }).click();
        await expect(post.getByRole("alert")).toContainText("Enter the post's id or its URL");
        await post.getByLabel("Post id or URL").fill(`https://sandbox.example/posts/${id}`);
        await post.getByRole("button", { name: `Mark #${itemId} to @${handle} posted` }).click();
        await expect(page.getByText("No post needs a decision.")).toBeVisible();
        const [item] = await sql`select status, external_url from public.queue_items where id = ${itemId}`;
        expect(item).toEqual({ status: "posted", external_url: `https://sandbox.example/posts/${id}` });
      });

      await test.step("a post that went out twice is listed with the extra post's link, and acknowledged", async () => {
        // As reconciliation records a second post carrying the item's marker.
        await sql`insert into public.duplicate_posts (queue_item_id, external_id, workspace_id, account_id, external_url, kept_external_id)
                  select q.id, ${`extra-${id}`}, q.workspace_id, q.account_id, ${`https://sandbox.example/posts/extra-${id}`}, ${`kept-${id}`}
                  from public.queue_items q where q.id = ${itemId}`;
        await page.reload();
        const row = page.getByRole("table", { name: "Duplicate posts" }).getByRole("row").filter({ hasText: text });
        await expect(row).toContainText(`extra-${id}`);
        await expect(row.getByRole("link", { name: `extra-${id}` })).toHaveAttribute("href", `https://sandbox.example/posts/extra-${id}`);
        await expect(row).toContainText(`kept-${id}`);
        await noSidewaysScroll(page);
        await row.getByRole("button", { name: `Acknowledge duplicate post extra-${id} of #${itemId}` }).click();
        await expect(page.getByText("No post went out twice.")).toBeVisible();
        const [d] = await sql`select resolution from public.duplicate_posts where queue_item_id = ${itemId}`;
        expect(d.resolution).toBe("acknowledged");
      });

      await test.step("the queue page shows it posted", async () => {
        await (await mainNavLink(page, "Queue")).click();
        await expect(page.getByRole("table", { name: "Queue" }).getByRole("row").filter({ hasText: text })).toContainText("Posted");
      });

      await test.step("the restricted account's link opens its health page", async () => {
        await (await mainNavLink(page, "Review")).click();
        await page.getByRole("link", { name: `@${restrictedHandle}` }).click();
        await expect(page).toHaveURL(new RegExp(`/dashboard/health/${restrictedId}$`));
        await expect(page.getByRole("heading", { name: `@${restrictedHandle}`, level: 1 })).toBeVisible();
        await expect(page.getByText("The platform restricted this account.").first()).toBeVisible();
        await noSidewaysScroll(page);
      });

      await test.step("a viewer sees a post to decide without the decisions, and why once", async () => {
        const [account] = await sql`select id from public.social_accounts where handle = ${handle}`;
        const added = await page.request.post("/api/queue/add", {
          headers: sameOrigin(page),
          data: { text: `Viewer sees this ${id}`, accountIds: [account.id], scheduledFor: new Date(Date.now() + 3_600_000).toISOString() },
        });
        expect(added.status()).toBe(201);
        const again = { id: Number((await added.json()).items[0].id) };
        await sql`update public.queue_items set status = 'needs_review', attempts = 1, verify_attempts = 3 where id = ${again.id}`;
        await sql.begin(async (tx) => {
          // The keep-an-owner trigger set aside for this crafted demotion.
          await tx`set local session_replication_role = replica`;
          await tx`update public.workspace_members m set role = 'viewer' from public.social_accounts a
                   where a.id = ${restrictedId} and m.workspace_id = a.workspace_id`;
        });
        await (await mainNavLink(page, "Review")).click();
        const viewerPost = page.getByRole("listitem", { name: `Post #${again.id} to @${handle}` });
        await expect(viewerPost).toContainText(`Viewer sees this ${id}`);
        await expect(page.getByTestId("viewer-note")).toHaveText("Viewers can look but not act; ask an editor or admin.");
        // No action at all: the only buttons left are the times' "show the exact time" toggles.
        await expect(viewerPost.locator('button:not([data-testid="when"])')).toHaveCount(0);
        await expect(viewerPost.getByLabel("Post id or URL")).toHaveCount(0);
      });
    } finally {
      await sql.end();
    }
  });
}
