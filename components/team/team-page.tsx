"use client";
// The team page: the workspace's members and their roles, inviting by email, open invitations,
// leaving and handing over ownership. It offers only what the API's manageableRoles allow; the
// database decides either way.
import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { useMutation, useQuery } from "@tanstack/react-query";
import { CircleAlert, MailCheck } from "lucide-react";
import { failureMessage } from "@/lib/api/client";
import type { Invitation, InviteResult, Member, Team } from "@/lib/team";
import { inviteInput, withArticle, type AssignableRole } from "@/lib/team/input";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { LoadState } from "@/components/ui/load-state";
import { NativeSelect } from "@/components/ui/native-select";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { invitationsQuery, teamChange, teamQuery, useRefreshTeam } from "./queries";
import { When } from "@/components/time/when";

const ROLE_NAMES: Record<string, string> = { viewer: "Viewer", editor: "Editor", admin: "Admin", owner: "Owner" };

export function TeamPage({ workspaceId }: { workspaceId?: string }) {
  const team = useQuery(teamQuery(workspaceId));
  if (!team.data) return <LoadState what="the team" error={team.error} />;
  const data = team.data;
  const manages = data.manageableRoles.length > 0;
  return (
    <div className="grid grid-cols-1 gap-6">
      {data.workspaces.length > 1 && <WorkspaceSwitcher team={data} />}
      <MembersCard team={data} />
      {manages && <InviteCard team={data} />}
      {manages && <InvitationsCard team={data} />}
    </div>
  );
}

function WorkspaceSwitcher({ team }: { team: Team }) {
  const router = useRouter();
  return (
    <div className="grid max-w-sm gap-2">
      <Label htmlFor="team-workspace">Workspace</Label>
      <NativeSelect
        id="team-workspace"
        value={team.workspaceId}
        onChange={(e) => router.push(`/dashboard/team?workspace=${encodeURIComponent(e.target.value)}`)}
      >
        {team.workspaces.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name} ({ROLE_NAMES[w.role]})
          </option>
        ))}
      </NativeSelect>
    </div>
  );
}

function Problem({ title, message }: { title: string; message: string | null }) {
  if (!message) return null;
  return (
    <Alert variant="destructive">
      <CircleAlert aria-hidden />
      <AlertTitle>{title}</AlertTitle>
      <AlertDescription>{message}</AlertDescription>
    </Alert>
  );
}

function MembersCard({ team }: { team: Team }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Members of {team.workspaceName}</h2>
        </CardTitle>
        <CardDescription>
          You are {withArticle(team.yourRole)} here. Viewers look, editors
          queue posts and connect accounts, admins also manage editors and viewers, and the owner manages everyone and the plan.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <Problem title="That change was not made" message={error} />
        <Table data-cards aria-label="Members">
          <TableHeader>
            <TableRow>
              <TableHead>Member</TableHead>
              <TableHead>Role</TableHead>
              <TableHead>Joined</TableHead>
              <TableHead className="text-right">Actions</TableHead>
            </TableRow>
          </TableHeader>
          <TableBody>
            {team.members.map((member) => (
              <MemberRow key={member.userId} team={team} member={member} onError={setError} />
            ))}
          </TableBody>
        </Table>
      </CardContent>
    </Card>
  );
}

function MemberRow({ team, member, onError }: { team: Team; member: Member; onError: (message: string | null) => void }) {
  const router = useRouter();
  const refresh = useRefreshTeam();
  const [confirmTransfer, setConfirmTransfer] = useState(false);
  // Bumped on a refusal, so the role picker shows the stored role again.
  const [refusals, setRefusals] = useState(0);
  const name = member.email ?? member.userId;
  const manageable = !member.you && team.manageableRoles.includes(member.role as AssignableRole);
  const change = useMutation({
    mutationFn: (action: () => Promise<unknown>) => action(),
    onSuccess: async () => {
      onError(null);
      setConfirmTransfer(false);
      await refresh();
    },
    onError: (e) => {
      onError(failureMessage(e));
      setRefusals((n) => n + 1);
    },
  });
  const ws = { workspaceId: team.workspaceId };
  const memberUrl = `/api/team/members/${member.userId}`;
  return (
    <TableRow>
      <TableCell data-label="Member">
        {name}
        {member.you && <span className="text-muted-foreground"> (you)</span>}
      </TableCell>
      <TableCell data-label="Role">
        {manageable ? (
          // Uncontrolled, keyed by the stored role: the choice shows at once, and a refusal or refetch resets it.
          <NativeSelect
            key={`${member.role}-${refusals}`}
            aria-label={`Role of ${name}`}
            className="w-32"
            defaultValue={member.role}
            disabled={change.isPending}
            onChange={(e) => change.mutate(() => teamChange("PATCH", memberUrl, { ...ws, role: e.target.value }))}
          >
            {team.manageableRoles.map((role) => (
              <option key={role} value={role}>
                {ROLE_NAMES[role]}
              </option>
            ))}
          </NativeSelect>
        ) : (
          <Badge variant={member.role === "owner" ? "default" : "secondary"}>{ROLE_NAMES[member.role]}</Badge>
        )}
      </TableCell>
      <TableCell data-label="Joined">
        <When at={member.joinedAt} />
      </TableCell>
      <TableCell className="space-x-2 text-right">
        {manageable && (
          <Button variant="outline" size="sm" disabled={change.isPending} aria-label={`Remove ${name}`}
            onClick={() => change.mutate(() => teamChange("DELETE", `${memberUrl}?workspaceId=${team.workspaceId}`))}>
            Remove
          </Button>
        )}
        {team.yourRole === "owner" && !member.you && (confirmTransfer ? (
          <>
            <Button size="sm" variant="destructive" disabled={change.isPending}
              onClick={() => change.mutate(() => teamChange("POST", "/api/team/transfer-ownership", { ...ws, userId: member.userId }))}>
              Confirm: {name} becomes owner, you become admin
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setConfirmTransfer(false)}>
              Keep ownership
            </Button>
          </>
        ) : (
          <Button variant="outline" size="sm" aria-label={`Make ${name} owner`} onClick={() => setConfirmTransfer(true)}>
            Make owner
          </Button>
        ))}
        {member.you && member.role !== "owner" && (
          <Button variant="outline" size="sm" disabled={change.isPending}
            onClick={() =>
              change.mutate(async () => {
                await teamChange("POST", "/api/team/leave", ws);
                router.push("/dashboard/team");
              })
            }>
            Leave workspace
          </Button>
        )}
      </TableCell>
    </TableRow>
  );
}

function InviteCard({ team }: { team: Team }) {
  const refresh = useRefreshTeam();
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [sent, setSent] = useState<InviteResult | null>(null);
  const invite = useMutation({
    mutationFn: (input: unknown) => teamChange<InviteResult>("POST", "/api/team/invitations", input),
    onSuccess: async (result) => {
      setError(null);
      setSent(result);
      await refresh();
    },
    onError: (e) => {
      const issue = (e as { issues?: Array<{ path: string; message: string }> }).issues?.[0];
      setError({ message: issue?.message ?? failureMessage(e), field: issue?.path });
    },
  });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const input = { email: String(data.get("email") ?? ""), role: String(data.get("role")), workspaceId: team.workspaceId };
    // The same schema as the API's, so the form says what the API would.
    const parsed = inviteInput.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      setError({ message: issue.message, field: issue.path.join(".") });
      return;
    }
    setSent(null);
    invite.mutate(parsed.data, { onSuccess: () => form.reset() });
  }

  const link = sent?.delivery === "link" ? new URL(sent.link, window.location.origin).href : null;
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Invite someone</h2>
        </CardTitle>
        <CardDescription>
          They join when they accept while signed in with this address (new people sign up with it). The link works once and
          expires in 7 days. {team.yourRole === "admin" && "Admins invite editors and viewers; the owner also invites admins."}
        </CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        {error && !error.field && <Problem title="The invitation was not made" message={error.message} />}
        <form onSubmit={onSubmit} noValidate className="grid items-start gap-4 sm:grid-cols-[1fr_10rem_auto]">
          <div className="grid gap-2">
            <Label htmlFor="invite-email">Email</Label>
            <Input id="invite-email" name="email" type="email" autoComplete="off" placeholder="sam@example.com"
              aria-invalid={error?.field === "email" || undefined} aria-describedby={error?.field === "email" ? "invite-email-error" : undefined} />
            {error?.field === "email" && (
              <p id="invite-email-error" className="text-sm text-destructive">
                {error.message}
              </p>
            )}
          </div>
          <div className="grid gap-2">
            <Label htmlFor="invite-role">Role</Label>
            <NativeSelect id="invite-role" name="role" defaultValue="editor">
              {team.manageableRoles.map((role) => (
                <option key={role} value={role}>
                  {ROLE_NAMES[role]}
                </option>
              ))}
            </NativeSelect>
          </div>
          <Button type="submit" className="sm:mt-[1.375rem]" disabled={invite.isPending}>
            {invite.isPending ? "Inviting…" : "Invite"}
          </Button>
        </form>
        {sent && (
          <Alert role="status">
            <MailCheck aria-hidden />
            <AlertTitle>
              {sent.invitation.email} is invited as {withArticle(sent.invitation.role)}
            </AlertTitle>
            <AlertDescription>
              {link ? (
                <>
                  <span>Local mode: no email is sent. Send them this link yourself; it is shown only now.</span>
                  <Input readOnly aria-label="Invitation link" value={link} onFocus={(e) => e.currentTarget.select()} />
                </>
              ) : (
                <span>We emailed them the link.</span>
              )}
            </AlertDescription>
          </Alert>
        )}
      </CardContent>
    </Card>
  );
}

function InvitationsCard({ team }: { team: Team }) {
  const invitations = useQuery(invitationsQuery(team.workspaceId));
  const refresh = useRefreshTeam();
  const [error, setError] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: (invitation: Invitation) => teamChange("DELETE", `/api/team/invitations/${invitation.id}`),
    onSuccess: async () => {
      setError(null);
      await refresh();
    },
    onError: (e) => setError(failureMessage(e)),
  });
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Open invitations</h2>
        </CardTitle>
        <CardDescription>Revoking one makes its link stop working. Inviting the same address again replaces its link.</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-4">
        <Problem title="The invitation was not revoked" message={error} />
        {!invitations.data ? (
          <LoadState what="the invitations" error={invitations.error} />
        ) : invitations.data.invitations.length === 0 ? (
          <p className="rounded-lg border border-dashed p-6 text-center text-sm text-muted-foreground">No open invitations.</p>
        ) : (
          <Table data-cards aria-label="Open invitations">
            <TableHeader>
              <TableRow>
                <TableHead>Email</TableHead>
                <TableHead>Role</TableHead>
                <TableHead>Invited by</TableHead>
                <TableHead>Expires</TableHead>
                <TableHead className="text-right">Actions</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {invitations.data.invitations.map((invitation) => (
                <TableRow key={invitation.id}>
                  <TableCell data-label="Email">{invitation.email}</TableCell>
                  <TableCell data-label="Role">{ROLE_NAMES[invitation.role]}</TableCell>
                  <TableCell data-label="Invited by">{invitation.invitedBy ?? "—"}</TableCell>
                  <TableCell data-label="Expires">{invitation.status === "expired" ? "Expired" : <When at={invitation.expiresAt} />}</TableCell>
                  <TableCell className="text-right">
                    {team.manageableRoles.includes(invitation.role) && (
                      <Button variant="outline" size="sm" aria-label={`Revoke the invitation of ${invitation.email}`}
                        disabled={revoke.isPending} onClick={() => revoke.mutate(invitation)}>
                        Revoke
                      </Button>
                    )}
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  );
}
