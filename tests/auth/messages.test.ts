// Auth refusals in Pacer's words with the next step, chosen by GoTrue's error code.
import { describe, expect, it } from "vitest";
import { authProblem } from "@/lib/auth/messages";

describe("authProblem", () => {
  it("an existing email on sign-up offers to sign in instead", () => {
    expect(authProblem("sign-up", { code: "user_already_exists", status: 422, message: "User already registered" })).toEqual({
      text: "An account with this email exists.",
      next: { label: "Sign in instead", href: "/sign-in" },
      field: "email",
    });
  });

  it("wrong credentials offer the way to reset the password", () => {
    expect(authProblem("sign-in", { code: "invalid_credentials", status: 400, message: "Invalid login credentials" })).toEqual({
      text: "Wrong email or password.",
      next: { label: "Forgot password?", href: "/forgot-password" },
      field: "password",
    });
  });

  it("never shows the service's own words for what it recognises, and says when Auth is unreachable", () => {
    const weak = authProblem("sign-up", { code: "weak_password", status: 422, message: "Password should be at least 6 characters." });
    expect(weak.text).toBe("That password is too short: use at least 6 characters.");
    expect(authProblem("sign-in", { status: 0, message: "Failed to fetch" }).text).toMatch(/could not reach its sign-in service/);
  });
});
