"use client";
// The invitation page's Accept button: joins the workspace, then opens its team page. (The page sits
// outside the dashboard, so a plain call rather than a TanStack Query mutation.)
import { useState } from "react";
import { useRouter } from "next/navigation";
import { CircleAlert } from "lucide-react";
import { failureMessage } from "@/lib/api/client";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { teamChange } from "./queries";

export function AcceptInvitation({ token }: { token: string }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  async function accept() {
    setPending(true);
    setError(null);
    try {
      const { workspaceId } = await teamChange<{ workspaceId: string }>("POST", "/api/team/invitations/accept", { token });
      router.push(`/dashboard/team?workspace=${encodeURIComponent(workspaceId)}`);
    } catch (e) {
      setError(failureMessage(e));
      setPending(false);
    }
  }
  return (
    <div className="grid gap-3">
      {error && (
        <Alert variant="destructive">
          <CircleAlert aria-hidden />
          <AlertTitle>Could not accept the invitation</AlertTitle>
          <AlertDescription>{error}</AlertDescription>
        </Alert>
      )}
      <Button onClick={accept} disabled={pending}>
        {pending ? "Joining…" : "Accept invitation"}
      </Button>
    </div>
  );
}
