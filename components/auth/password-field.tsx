"use client";
// A password field with a Show toggle and, where a new password is chosen, the rules it must meet,
// shown before anyone submits (from lib/auth/password-rules, the same rules the auth server checks).
import { useState, type Ref } from "react";
import { Eye, EyeOff } from "lucide-react";
import { PASSWORD_RULES } from "@/lib/auth/password-rules";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

export function PasswordField({
  id = "password",
  label = "Password",
  autoComplete,
  showRules = false,
  error,
  inputRef,
  extra,
}: {
  id?: string;
  label?: string;
  autoComplete: "current-password" | "new-password";
  /** Show the rules under the field (sign-up, a new password). */
  showRules?: boolean;
  /** A problem with what was typed, said under the field. */
  error?: string | null;
  inputRef?: Ref<HTMLInputElement>;
  /** Something beside the label, such as the "Forgot password?" link. */
  extra?: React.ReactNode;
}) {
  const [visible, setVisible] = useState(false);
  const describedBy = [showRules ? `${id}-rules` : null, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return (
    <div className="grid gap-2">
      <div className="flex items-center justify-between gap-2">
        <Label htmlFor={id}>{label}</Label>
        {extra}
      </div>
      <div className="flex gap-2">
        <Input
          ref={inputRef}
          id={id}
          name={id}
          type={visible ? "text" : "password"}
          autoComplete={autoComplete}
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy || undefined}
          // Browsers must not autocorrect or capitalise a visible password.
          autoCapitalize="none"
          autoCorrect="off"
          spellCheck={false}
        />
        {/* Its name stays "Show"; aria-pressed says whether the password is shown. No "password" in
            the name, so the field's label stays the only thing called "Password". */}
        <Button
          type="button"
          variant="outline"
          aria-pressed={visible}
          aria-controls={id}
          onClick={() => setVisible((v) => !v)}
          className="w-20"
        >
          {visible ? <EyeOff aria-hidden /> : <Eye aria-hidden />}
          Show
        </Button>
      </div>
      {showRules && (
        <p id={`${id}-rules`} className="text-sm text-muted-foreground">
          {PASSWORD_RULES}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="text-sm text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
