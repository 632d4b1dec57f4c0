// The webhooks page end to end: an admin adds an endpoint pointing at the local stack's receiver (the
// sandbox's webhook inbox), publishes a post with Process now, and sees the delivery in the log once
// the scheduled run has sent it; the receiver got it, signed with the secret shown once.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const expect = baseExpect.configure({ timeout: process.env.PACER_NEXT_MODE === "dev" ? 60_000 : 10_000 });
const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

/** Where the sandbox listens: local/dev.ts writes it into the run's data folder (its port is a free one). */
function sandbox(): { url: string } {
  return JSON.parse(readFileSync(join(process.env.PACER_E2E_DATA_DIR!, "sandbox-address.json"), "utf8"));
}

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: 30_000 });
}

test("an endpoint on the webhooks page receives post.published for a post published with Process now", async ({ page, baseURL }) => {
  // The delivery goes out with the next scheduled queue run (every minute), not from Process now's request.
  test.setTimeout(240_000);
  const id = suffix();
  const handle = `hooks_${id.replace(/\W/g, "_")}`;
  const inbox = `${sandbox().url}/v1/webhook-inbox/e2e_${id.replace(/\W/g, "_")}`;
  const text = `Hello, webhooks ${id}`;
  const nav = page.getByRole("navigation", { name: "Main" });
  let secret = "";

  await test.step("a new subscriber connects a sandbox account", async () => {
    await signUp(page, `hooks-${id}@example.com`);
    const response = await page.request.post("/api/accounts", { headers: sameOrigin(page), data: { platform: "sandbox", handle } });
    expect(response.status()).toBe(201);
  });

  await test.step("an endpoint at a private address is refused next to the URL field", async () => {
    await nav.getByRole("link", { name: "Webhooks" }).click();
    await expect(page.getByRole("heading", { name: "Webhooks", level: 1 })).toBeVisible();
    await expect(page.getByText("No endpoints yet.")).toBeVisible();
    await page.getByLabel("Endpoint URL").fill("https://10.0.0.1/hooks");
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByLabel("Endpoint URL")).toHaveAttribute("aria-invalid", "true");
    await expect(page.getByLabel("Endpoint URL")).toHaveAccessibleDescription(/public addresses only/);
  });

  await test.step("the local receiver is added, and its secret is shown once", async () => {
    await page.getByLabel("Endpoint URL").fill(inbox);
    await page.getByLabel("Description (optional)").fill("e2e receiver");
    await expect(page.getByLabel("post.published")).toBeChecked();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    const shown = page.getByTestId("webhook-secret");
    await expect(shown).toHaveText(/^whsec_/);
    secret = (await shown.textContent())!.trim();
    await page.getByRole("button", { name: "I have copied it" }).click();
    await expect(shown).toHaveCount(0);
    const endpoint = page.getByRole("region", { name: `Endpoint ${inbox}` });
    await expect(endpoint).toContainText("Enabled");
    await expect(endpoint).toContainText(`…${secret.slice(-4)}`);
    await expect(endpoint.getByText("No deliveries yet.")).toBeVisible();
  });

  await test.step("a post is published with Process now", async () => {
    // Queued through the API (composing is the composer's scene), then published from the queue page.
    const headers = { origin: baseURL!, "content-type": "application/json" };
    const { accounts } = await (await page.request.get("/api/accounts")).json();
    const accountId = accounts.find((a: { handle: string }) => a.handle === handle).id;
    expect((await page.request.post("/api/queue/add", { data: { text, accountIds: [accountId] }, headers })).status()).toBe(201);
    await nav.getByRole("link", { name: "Queue" }).click();
    await page.getByRole("button", { name: "Process now" }).click();
    // The minute's scheduled run may have published it first; either way it is posted.
    await expect(page.getByTestId("announcer")).toContainText(/Published 1, failed 0\.|Nothing was due\./);
    await expect(page.getByRole("table", { name: "Queue" }).getByRole("row").filter({ hasText: text })).toContainText("Posted");
  });

  await test.step("the delivery log shows post.published delivered", async () => {
    await nav.getByRole("link", { name: "Webhooks" }).click();
    const log = page.getByRole("table", { name: `Deliveries to ${inbox}` });
    const row = log.getByRole("row").filter({ hasText: "post.published" });
    await expect(row).toContainText("Delivered", { timeout: 150_000 });
    await expect(row).toContainText("HTTP 204");
  });

  await test.step("the receiver got it once, signed with the secret shown at creation", async () => {
    const got = (await (await page.request.get(inbox)).json()) as { deliveries: { headers: Record<string, string>; body: string }[] };
    expect(got.deliveries).toHaveLength(1);
    const [delivery] = got.deliveries;
    expect(delivery.headers["pacer-event-type"]).toBe("post.published");
    const body = JSON.parse(delivery.body);
    expect(body.data).toMatchObject({ status: "posted", account: { handle } });
    const [, t, v1] = delivery.headers["pacer-signature"].match(/^t=(\d+),v1=([0-9a-f]{64})$/)!;
    expect(createHmac("sha256", secret).update(`${t}.${delivery.body}`).digest("hex")).toBe(v1);
  });
});
