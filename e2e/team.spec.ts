// Teams end to end: an owner invites a teammate (local mode shows the link), the teammate signs up with
// the invited address in another browser and accepts, the owner changes their role, and the audit
// log shows who changed it from what to what.
import { expect as baseExpect, test, type Page } from "@playwright/test";

// `next dev` compiles each page and action on first use, which can take longer than the default 5 s.
const dev = process.env.PACER_NEXT_MODE === "dev";
const expect = baseExpect.configure({ timeout: dev ? 60_000 : 10_000 });

const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: dev ? 120_000 : 30_000 });
}

test("an owner invites a teammate, who accepts in another browser; the owner makes them admin and the audit log shows it", async ({ page, browser }) => {
  // Two browsers, four pages and a download: longer than one page's default.
  test.setTimeout(dev ? 900_000 : 120_000);
  const id = suffix();
  const ownerEmail = `team-owner-${id}@example.com`;
  const teammateEmail = `team-mate-${id}@example.com`;
  const members = page.getByRole("table", { name: "Members" });
  let link = "";

  await test.step("the owner invites the teammate as an editor and is shown the link", async () => {
    await signUp(page, ownerEmail);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Team" }).click();
    await expect(page.getByRole("heading", { name: "Team", level: 1 })).toBeVisible();
    await expect(members).toContainText(ownerEmail);
    await expect(members).toContainText("Owner");
    await page.getByLabel("Email").fill("not an address");
    await page.getByRole("button", { name: "Invite" }).click();
    await expect(page.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
    await page.getByLabel("Email").fill(teammateEmail);
    await page.getByLabel("Role", { exact: true }).selectOption("editor");
    await page.getByRole("button", { name: "Invite" }).click();
    await expect(page.getByRole("status").filter({ hasText: `${teammateEmail} is invited as an editor` })).toBeVisible();
    link = await page.getByLabel("Invitation link").inputValue();
    expect(link).toMatch(/\/invite\/[0-9a-f]{64}$/);
    await expect(page.getByRole("table", { name: "Open invitations" })).toContainText(teammateEmail);
  });

  await test.step("the teammate opens the link in another browser, signs up with that address and accepts", async () => {
    const other = await browser.newContext();
    const teammate = await other.newPage();
    try {
      await teammate.goto(link);
      await expect(teammate.getByRole("heading", { level: 1 })).toContainText("Join");
      await expect(teammate.getByText(`The invitation is for ${teammateEmail}.`)).toBeVisible();
      await teammate.getByRole("link", { name: "Sign up" }).click();
      await teammate.getByLabel("Email").fill(teammateEmail);
      await teammate.getByLabel("Password").fill(password);
      await teammate.getByRole("button", { name: "Create account" }).click();
      await expect(teammate).toHaveURL(new RegExp(`/invite/[0-9a-f]{64}$`));
      await teammate.getByRole("button", { name: "Accept invitation" }).click();
      await expect(teammate).toHaveURL(/\/dashboard\/team\?workspace=/);
      const theirView = teammate.getByRole("table", { name: "Members" });
      await expect(theirView).toContainText(ownerEmail);
      await expect(theirView.getByRole("row").filter({ hasText: teammateEmail })).toContainText("Editor");
      // An editor is offered no invitations and no role changes.
      await expect(teammate.getByRole("heading", { name: "Invite someone" })).toHaveCount(0);
      await expect(teammate.getByRole("combobox", { name: /^Role of/ })).toHaveCount(0);
    } finally {
      await other.close();
    }
  });

  await test.step("the owner sees the teammate and makes them an admin", async () => {
    await page.reload();
    const role = page.getByRole("combobox", { name: `Role of ${teammateEmail}` });
    await expect(role).toHaveValue("editor");
    await expect(page.getByText("No open invitations.")).toBeVisible();
    const saved = page.waitForResponse((r) => r.url().includes("/api/team/members/") && r.request().method() === "PATCH");
    await role.selectOption("admin");
    expect((await saved).status()).toBe(200);
    await page.reload();
    await expect(page.getByRole("combobox", { name: `Role of ${teammateEmail}` })).toHaveValue("admin");
  });

  await test.step("the audit log shows the role change: who, whose role, old → new", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit log" }).click();
    await expect(page.getByRole("heading", { name: "Audit log", level: 1 })).toBeVisible();
    await page.getByLabel("Entity").selectOption({ label: "Member" });
    await page.getByLabel("Action").selectOption("update");
    await page.getByRole("button", { name: "Apply filters" }).click();
    const rows = page.getByRole("table", { name: "Audit log" }).getByRole("row");
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(1)).toContainText(ownerEmail);
    await expect(rows.nth(1)).toContainText(teammateEmail);
    await expect(rows.nth(1)).toContainText("role: editor → admin");
    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Export CSV" }).click();
    const csv = await (await download).createReadStream().then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    });
    expect(csv.split("\r\n")[0]).toBe("at,actor_email,actor_id,action,entity,entity_id,subject,changes,old_values,new_values");
    expect(csv).toContain("role: editor → admin");
  });
});
