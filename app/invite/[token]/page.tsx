// An invitation link: says who invited you where, and lets the invited address accept it (signing in
// or up first, and coming back here).
import type { Metadata } from "next";
import Link from "next/link";
import { AcceptInvitation } from "@/components/team/accept-invitation";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { signOut } from "@/app/auth/actions";
import { currentUser } from "@/lib/auth";
import { previewInvitation } from "@/lib/team";
import { withArticle } from "@/lib/team/input";

export const metadata: Metadata = { title: "Invitation" };

export default async function InvitationPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const [invitation, user] = await Promise.all([previewInvitation(token), currentUser()]);
  const here = `/invite/${token}`;

  let title = "This invitation link is not valid";
  let description = "It may have been revoked or replaced by a newer one. Ask whoever invited you for a new invitation.";
  let body: React.ReactNode = null;
  if (invitation) {
    title = `Join ${invitation.workspaceName} on Pacer`;
    description = `You are invited as ${withArticle(invitation.role)}. The invitation is for ${invitation.email}.`;
    if (invitation.status === "used") {
      body = <p>This invitation has already been used.</p>;
    } else if (invitation.status === "expired") {
      body = <p>This invitation has expired. Ask for a new one.</p>;
    } else if (!user) {
      body = (
        <div className="grid gap-2">
          <p>Sign up with {invitation.email} (or sign in, if you already use Pacer with it) to accept.</p>
          <div className="flex gap-2">
            <Button asChild>
              <Link href={`/sign-up?next=${encodeURIComponent(here)}`}>Sign up</Link>
            </Button>
            <Button asChild variant="outline">
              <Link href={`/sign-in?next=${encodeURIComponent(here)}`}>Sign in</Link>
            </Button>
          </div>
        </div>
      );
    } else if ((user.email ?? "").toLowerCase() !== invitation.email) {
      body = (
        <div className="grid gap-2">
          <p>
            You are signed in as {user.email}. Sign out, then sign in or sign up as {invitation.email} to accept.
          </p>
          <form action={signOut}>
            <Button type="submit" variant="outline">
              Sign out
            </Button>
          </form>
        </div>
      );
    } else {
      body = <AcceptInvitation token={token} />;
    }
  }

  return (
    <main className="flex min-h-svh flex-col items-center justify-center gap-6 bg-muted/40 px-4 py-12">
      <Link href="/" className="text-lg font-semibold tracking-tight">
        Pacer
      </Link>
      <Card className="w-full max-w-md">
        <CardHeader>
          <CardTitle>
            <h1 className="text-xl">{title}</h1>
          </CardTitle>
          <CardDescription>{description}</CardDescription>
        </CardHeader>
        {body && <CardContent className="text-sm">{body}</CardContent>}
        <CardFooter className="text-sm text-muted-foreground">
          <Link href="/dashboard" className="underline underline-offset-4">
            Go to your dashboard
          </Link>
        </CardFooter>
      </Card>
    </main>
  );
}
