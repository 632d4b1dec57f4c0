// The main navigation as a person reaches it at any width: on a phone its links are behind the Menu button.
import { expect, type Page } from "@playwright/test";

/** A link of the main navigation, ready to click: on a phone it is behind the Menu button, opened first. */
export async function mainNavLink(page: Page, name: string) {
  // Hidden included: after the click the phone's menu closes, and a scene may still read the link's aria-current.
  const nav = page.getByRole("navigation", { name: "Main", includeHidden: true });
  const menu = page.getByRole("button", { name: "Menu" });
  if (await menu.isVisible()) {
    // A click before the page hydrates is lost: open until the list shows.
    await expect(async () => {
      if ((await menu.getAttribute("aria-expanded")) !== "true") await menu.click();
      await expect(nav).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 60_000 });
  }
  return nav.getByRole("link", { name, exact: true, includeHidden: true });
}
