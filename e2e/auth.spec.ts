// Signing in, up and back in when the password is forgotten, in a real browser against the local
// stack: the password rules before submit, the Show toggle, refusals in Pacer's words with the next
// step, the reset link from the local mailbox, and the 404 pages. At phone width nothing scrolls sideways.
import { expect as baseExpect, test, type Page } from "@playwright/test";

// `next dev` compiles each page on first use, which can take longer than the default 5 s.
const dev = process.env.PACER_NEXT_MODE === "dev";
const expect = baseExpect.configure({ timeout: dev ? 60_000 : 5_000 });
test.setTimeout(dev ? 600_000 : 60_000);

const password = "pacer-e2e-password";
const newPassword = "a-brand-new-secret-7";
const newEmail = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;

async function signUp(page: Page, email: string) {
  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}

async function noSidewaysScroll(page: Page) {
  for (const width of [320, 390, 1440]) {
    await page.setViewportSize({ width, height: width === 1440 ? 900 : 740 });
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(fits, `no horizontal scroll at ${width} px on ${page.url()}`).toBe(true);
  }
}

test("sign-up shows the password rules before submit, a Show toggle, and checks the rules itself", async ({ page }) => {
  await page.goto("/sign-up");
  const field = page.getByLabel("Password");
  await expect(page.getByText("At least 6 characters. Any letters, digits or symbols.")).toBeVisible();
  await expect(field).toHaveAttribute("aria-describedby", /password-rules/);

  const toggle = page.getByRole("button", { name: "Show" });
  await field.fill("secret");
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await expect(field).toHaveAttribute("type", "password");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await expect(field).toHaveAttribute("type", "text");
  await toggle.press("Enter");
  await expect(field).toHaveAttribute("type", "password");

  await page.getByLabel("Email").fill(newEmail("rules"));
  await field.fill("abc");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("Use at least 6 characters (this one has 3).")).toBeVisible();
  await expect(field).toBeFocused();
  await expect(page).toHaveURL(/\/sign-up$/);
  await noSidewaysScroll(page);
});

test("an existing email on sign-up says so and offers to sign in; a wrong password offers a reset", async ({ page }) => {
  const email = newEmail("exists");
  await signUp(page, email);
  await page.context().clearCookies();

  await page.goto("/sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  const problem = page.getByTestId("auth-problem");
  await expect(problem).toContainText("An account with this email exists.");
  await expect(problem).not.toContainText("User already registered");
  await problem.getByRole("link", { name: "Sign in instead" }).click();
  await expect(page).toHaveURL(/\/sign-in$/);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(problem).toContainText("Wrong email or password.");
  await expect(problem).not.toContainText("Invalid login credentials");
  await problem.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
});

test("forgot password: the link from the local mailbox leads to a new password, which then signs in", async ({ page }) => {
  const email = newEmail("reset");
  await signUp(page, email);
  await page.context().clearCookies();

  let mailboxUrl = "";
  await test.step("the sign-in page leads to the reset form, which says where local mail goes", async () => {
    await page.goto("/sign-in");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await expect(page.getByRole("heading", { name: "Reset your password", level: 1 })).toBeVisible();
    const notice = page.getByTestId("local-mailbox-notice");
    await expect(notice).toContainText("sends no email");
    mailboxUrl = (await notice.getByRole("link", { name: "local mailbox" }).getAttribute("href"))!;
    await noSidewaysScroll(page);
  });

  await test.step("asking for a link answers the same as for any address", async () => {
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await expect(page.getByTestId("reset-sent")).toContainText(`If an account uses ${email}, a link to choose a new password is on its way.`);
    await expect(page.getByRole("heading", { name: "Check your email" })).toBeFocused();
    // Asking again within the minute (Auth refuses a second mail, for a registered address only)
    // answers the same, so the page never tells which addresses have an account.
    await page.goto("/forgot-password");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await expect(page.getByTestId("reset-sent")).toContainText(`If an account uses ${email}, a link to choose a new password is on its way.`);
  });

  let link = "";
  await test.step("the email is in the local mailbox; its link opens the new-password form", async () => {
    await page.goto(mailboxUrl);
    const mail = page.getByRole("article", { name: `Email to ${email}` });
    await expect(mail).toContainText("Reset your Pacer password");
    link = (await mail.getByRole("link", { name: "Open the link in this email" }).getAttribute("href"))!;
    // Opening the link spends nothing (a mail program's link scanner opens it first): only the click does.
    await page.request.get(link);
    await page.goto(link);
    await expect(page.getByRole("heading", { name: "Reset your password", level: 1 })).toBeVisible();
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page).toHaveURL(/\/reset-password$/);
    await expect(page.getByText(`For ${email}.`)).toBeVisible();
  });

  await test.step("the new password follows the rules shown, and is saved", async () => {
    await expect(page.getByText("At least 6 characters. Any letters, digits or symbols.")).toBeVisible();
    await page.getByLabel("New password").fill(password);
    await page.getByRole("button", { name: "Save new password" }).click();
    await expect(page.getByTestId("auth-problem")).toContainText("That is your current password. Choose a different one.");
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Save new password" }).click();
    await expect(page.getByTestId("password-changed")).toContainText("Your password is changed");
    await expect(page.getByRole("heading", { name: "Your password is changed" })).toBeFocused();
    await noSidewaysScroll(page);
  });

  await test.step("the link works once", async () => {
    await page.context().clearCookies();
    await page.goto(link);
    await page.getByRole("button", { name: "Continue" }).click();
    await expect(page).toHaveURL(/\/forgot-password\?link=invalid$/);
    await expect(page.getByTestId("reset-link-invalid")).toContainText("That reset link no longer works");
  });

  await test.step("the new password signs in; the old one does not", async () => {
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("auth-problem")).toContainText("Wrong email or password.");
    await page.getByLabel("Password").fill(newPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
  });
});

test("an unknown address shows a 404 with a way back, inside the dashboard too; the app has a favicon", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to the dashboard" })).toBeVisible();
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute("href", /\/icon\.svg/);
  await noSidewaysScroll(page);

  await signUp(page, newEmail("lost"));
  const inside = await page.goto("/dashboard/no-such-page");
  expect(inside?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page does not exist", level: 1 })).toBeVisible();
  await page.getByRole("link", { name: "Back to the overview" }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
});
