// Where a reset link from the email lands (the "Reset password" template in docs/deploying.md).
// Opening the link changes nothing: mail programs and link scanners open links on their own, and a
// one-time token they spent would leave the person with a dead link. One click on this page verifies
// the token on the server (./actions.ts), which signs the user in and goes on to the new-password page.
import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { confirmRecovery } from "./actions";

export const metadata: Metadata = { title: "Reset your password" };

type Params = Promise<Record<string, string | string[] | undefined>>;

export default async function ConfirmPage({ searchParams }: { searchParams: Params }) {
  const params = await searchParams;
  const tokenHash = typeof params.token_hash === "string" ? params.token_hash : "";
  const next = typeof params.next === "string" ? params.next : "";
  // Pacer only sends reset links (sign-ups need no confirmation on the local server; see docs/deploying.md).
  if (!tokenHash || params.type !== "recovery") redirect("/forgot-password?link=invalid");
  return (
    <Card className="w-full max-w-sm">
      <CardHeader>
        <CardTitle>
          <h1 className="text-xl">Reset your password</h1>
        </CardTitle>
        <CardDescription>Continue to choose a new password for your Pacer account. The link works once.</CardDescription>
      </CardHeader>
      <CardContent>
        <form action={confirmRecovery}>
          <input type="hidden" name="token_hash" value={tokenHash} />
          <input type="hidden" name="next" value={next} />
          <Button type="submit" className="w-full">
            Continue
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}
