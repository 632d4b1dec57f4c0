"use client";
// What happened to a platform sign-in, shown when the platform sends the user back to the accounts
// page. Only codes and the account's id travel in the URL; the words are Pacer's and the handle is the
// one the API lists for that id in this workspace, so a crafted link cannot put text of its own on
// this page.
import { useQuery } from "@tanstack/react-query";
import { useRouter, useSearchParams } from "next/navigation";
import { CircleAlert, CircleCheck } from "lucide-react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { platformName } from "./platforms";
import { accountsQuery } from "./queries";

/** Each failure: what happened, and what to do about it. */
const FAILURES: Record<string, string> = {
  signed_out: "You were signed out of Pacer before the platform sent you back. Sign in, then connect again.",
  state_missing: "This sign-in was not started from Pacer. Connect again from this page.",
  state_unknown: "This sign-in was already used, or was started by someone else. Connect again from this page.",
  state_expired: "The sign-in took longer than 10 minutes. Connect again.",
  denied: "You declined on the platform, so nothing was connected. Connect again and choose Authorize to add the account.",
  instance_refused: "The instance refused the sign-in. Try again; if it keeps refusing, its admins may limit third-party apps.",
  code_invalid: "The instance's sign-in code expired or was already used. Connect again.",
  app_forgotten: "The instance no longer knows Pacer's app. Connect again: Pacer registers it anew.",
  instance_unreachable: "Pacer could not reach the instance. Check its address and try again in a moment.",
  wrong_account: "You signed in as a different account than the one you are reconnecting. Reconnect, and sign in on the instance as that account.",
  plan_limit_reached: "Your plan's account limit is reached, so the account was not added. Remove an account, or upgrade on the Billing page.",
  forbidden: "Your role in this workspace does not allow connecting accounts. Ask an owner or admin to make you an editor.",
  account_exists: "That account is already connected in this workspace.",
  rate_limited: "Too many requests just now. Wait a minute, then connect again.",
  not_connected: "Something went wrong on Pacer's side and the account was not connected. Try again in a moment.",
};

export function ConnectNotice() {
  const params = useSearchParams();
  const router = useRouter();
  const accounts = useQuery(accountsQuery);
  const platform = params.get("connect");
  if (!platform) return null;
  const name = platformName(platform);
  // Only an account the server lists here is named; any other id names nothing.
  const account = accounts.data?.accounts.find((a) => a.id === params.get("account") && a.platform === platform);
  const who = account ? `@${account.handle}` : "The account";
  const result = params.get("result");
  const error = params.get("error");
  const dismiss = (
    <Button size="sm" variant="ghost" className="col-start-2 mt-2 justify-self-start" onClick={() => router.replace("/dashboard/accounts")}>
      Dismiss
    </Button>
  );

  if (result === "connected" || result === "reconnected") {
    return (
      <Alert>
        <CircleCheck aria-hidden />
        <AlertTitle>{result === "connected" ? `${name} account connected` : `${name} account reconnected`}</AlertTitle>
        <AlertDescription>
          {result === "connected"
            ? `${who} is connected: Pacer can publish to it now.`
            : `${who} is connected again: its queued posts go out as scheduled.`}
        </AlertDescription>
        {dismiss}
      </Alert>
    );
  }
  return (
    <Alert variant="destructive">
      <CircleAlert aria-hidden />
      <AlertTitle>{`The ${name} account was not connected`}</AlertTitle>
      <AlertDescription>{FAILURES[error ?? ""] ?? FAILURES.not_connected}</AlertDescription>
      {dismiss}
    </Alert>
  );
}
