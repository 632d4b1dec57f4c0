// Approvals end to end: an owner turns on "editors' posts need approval"; an editor's post waits;
// the owner edits it and approves it (it is queued, created by the editor); a second is rejected
// with a note, which the editor reads on their approvals page.
import { expect as baseExpect, test, type Page } from "@playwright/test";
import postgres from "postgres";

const dev = process.env.PACER_NEXT_MODE === "dev";
const expect = baseExpect.configure({ timeout: dev ? 60_000 : 10_000 });
const password = "pacer-e2e-password";
const suffix = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
const sameOrigin = (page: Page) => ({ origin: new URL(page.url()).origin });

// The test stack's database (playwright.config.ts picks its port): the editor joins the owner's
// workspace there, as an accepted invitation would have made them (the team spec covers inviting).
function database() {
  const [port] = process.env.PACER_E2E_PORTS!.split(",").map(Number);
  return postgres(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} });
}

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await baseExpect(page).toHaveURL(/\/dashboard$/, { timeout: dev ? 120_000 : 30_000 });
}

test("an editor's post waits for approval; the owner edits and approves one and rejects another with a note", async ({ page, browser }) => {
  test.setTimeout(dev ? 900_000 : 120_000);
  const sql = database();
  const id = suffix();
  const handle = `appr_${id.replace(/\W/g, "_")}`;
  const ownerEmail = `appr-owner-${id}@example.com`;
  const editorEmail = `appr-editor-${id}@example.com`;
  const other = await browser.newContext();
  const editor = await other.newPage();
  try {
    let ws = "";
    let accountId = "";
    await test.step("the owner connects a sandbox account and turns approval on", async () => {
      await signUp(page, ownerEmail);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Accounts" }).click();
      await page.getByLabel("Handle").fill(handle);
      await page.getByRole("button", { name: "Add account" }).click();
      await expect(page.getByRole("table", { name: "Social accounts" })).toContainText(`@${handle}`);
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Approvals" }).click();
      await expect(page.getByRole("heading", { name: "Approvals", level: 1 })).toBeVisible();
      await page.getByLabel("Off").check();
      await expect(page.getByLabel("On")).toBeChecked();
      [{ workspace_id: ws, id: accountId }] = await sql`select workspace_id, id from public.social_accounts where handle = ${handle}`;
    });

    const submit = async (text: string) => {
      const res = await editor.request.post("/api/queue/add", {
        headers: sameOrigin(editor),
        data: { text, accountIds: [accountId], workspaceId: ws, scheduledFor: new Date(Date.now() + 86_400_000).toISOString() },
      });
      expect(res.status()).toBe(202);
      expect((await res.json()).submission.status).toBe("submitted");
    };

    await test.step("the editor's posts wait instead of entering the queue", async () => {
      await signUp(editor, editorEmail);
      const [user] = await sql`select id from auth.users where email = ${editorEmail}`;
      await sql`insert into public.workspace_members (workspace_id, user_id, role) values (${ws}, ${user.id}, 'editor')`;
      await submit(`Editor's first ${id}`);
      await submit(`Editor's second ${id}`);
      const [n] = await sql`select count(*)::int as n from public.queue_items where workspace_id = ${ws}`;
      expect(n.n).toBe(0);
    });

    await test.step("the owner edits the first and approves it: it is queued, created by the editor", async () => {
      await page.reload();
      await expect(page.getByTestId("submission")).toHaveCount(2);
      // Newest first: the first submission is at the bottom.
      const card = page.getByTestId("submission").last();
      await expect(card.getByRole("textbox", { name: /Text/ })).toHaveValue(`Editor's first ${id}`);
      await card.getByRole("textbox", { name: /Text/ }).fill(`Edited by the owner ${id}`);
      await card.getByRole("button", { name: "Save and approve" }).click();
      await expect(page.getByTestId("submission")).toHaveCount(1);
      const [post] = await sql`select p.text, u.email from public.posts p join auth.users u on u.id = p.created_by
                               where p.workspace_id = ${ws}`;
      expect(post).toEqual({ text: `Edited by the owner ${id}`, email: editorEmail });
    });

    await test.step("the owner rejects the second with a note; the editor reads it", async () => {
      const card = page.getByTestId("submission");
      await card.getByRole("button", { name: "Reject with note" }).click();
      await expect(card.getByText("Write a note saying why, for the editor.")).toBeVisible();
      await card.getByLabel("Note for the editor").fill("Not this week, please.");
      await card.getByRole("button", { name: "Reject with note" }).click();
      await expect(page.getByTestId("approvals-empty")).toBeVisible();
      await editor.goto(`/dashboard/approvals?workspace=${ws}`);
      await editor.getByLabel("Show").selectOption("rejected");
      await expect(editor.getByTestId("submission-note")).toContainText("Not this week, please.");
      await expect(editor.getByRole("button", { name: /Approve|Reject/ })).toHaveCount(0);
    });
  } finally {
    await other.close();
    await sql.end();
  }
});
