// The team HTTP API through its real route handlers with real users: invite (a link in local mode, an
// email over SMTP), accept, change roles, remove, leave and transfer ownership, and what each role is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "@supabase/supabase-js";
import * as invitationsRoute from "@/app/api/team/invitations/route";
import * as invitationRoute from "@/app/api/team/invitations/[id]/route";
import * as acceptRoute from "@/app/api/team/invitations/accept/route";
import * as membersRoute from "@/app/api/team/members/route";
import * as memberRoute from "@/app/api/team/members/[userId]/route";
import * as leaveRoute from "@/app/api/team/leave/route";
import * as transferRoute from "@/app/api/team/transfer-ownership/route";
import * as accountsRoute from "@/app/api/accounts/route";
import { connect, type Sql } from "../support/db";
import { startFakeSmtp } from "../support/smtp";
import { signUp, type TestUser } from "../support/users";

const BASE = "http://127.0.0.1:3000";
type Handler = (req: Request, ctx: any) => Promise<Response>;
let sql: Sql;

beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

function call(handler: Handler, path: string, init: { method?: string; user?: TestUser; body?: unknown; params?: Record<string, string> } = {}) {
  const headers = new Headers();
  if (init.user) headers.set("authorization", `Bearer ${init.user.accessToken}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`${BASE}${path}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  return handler(request, { params: Promise.resolve(init.params ?? {}) });
}

/** A user signed up on the local auth server with this exact address (as an invitee would). */
async function signUpAs(email: string): Promise<TestUser> {
  const password = `pw-${crypto.randomUUID()}`;
  const client = createClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  const { data, error } = await client.auth.signUp({ email, password });
  if (error || !data.session) throw error ?? new Error("sign-up returned no session");
  return { id: data.user!.id, email, password, accessToken: data.session.access_token };
}

const personalWorkspace = async (user: TestUser) =>
  (await sql`select workspace_id from public.workspace_members where user_id = ${user.id} and role = 'owner'`)[0].workspace_id as string;

const invite = (user: TestUser, body: Record<string, unknown>) =>
  call(invitationsRoute.POST, "/api/team/invitations", { method: "POST", user, body });
const accept = (user: TestUser, token: string) =>
  call(acceptRoute.POST, "/api/team/invitations/accept", { method: "POST", user, body: { token } });
const members = (user: TestUser, workspaceId: string) => call(membersRoute.GET, `/api/team/members?workspaceId=${workspaceId}`, { user });
const changeRole = (user: TestUser, workspaceId: string, userId: string, role: string) =>
  call(memberRoute.PATCH, `/api/team/members/${userId}`, { method: "PATCH", user, body: { role, workspaceId }, params: { userId } });
const remove = (user: TestUser, workspaceId: string, userId: string) =>
  call(memberRoute.DELETE, `/api/team/members/${userId}?workspaceId=${workspaceId}`, { method: "DELETE", user, params: { userId } });
const tokenOf = (link: string) => link.match(/\/invite\/([0-9a-f]{64})$/)![1];
const email = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}@example.test`;

/** A new invitee joins `ws` at `role` through the owner's invitation; answers the new member. */
async function join(owner: TestUser, ws: string, role: string, label = role): Promise<TestUser> {
  const address = email(label);
  const res = await invite(owner, { email: address, role, workspaceId: ws });
  expect(res.status).toBe(201);
  const { link } = await res.json();
  const member = await signUpAs(address);
  expect((await accept(member, tokenOf(link))).status).toBe(200);
  return member;
}

describe("authentication", () => {
  const routes: Array<[string, Handler, string]> = [
    ["GET /api/team/invitations", invitationsRoute.GET, "GET"],
    ["POST /api/team/invitations", invitationsRoute.POST, "POST"],
    ["DELETE /api/team/invitations/:id", invitationRoute.DELETE, "DELETE"],
    ["POST /api/team/invitations/accept", acceptRoute.POST, "POST"],
    ["GET /api/team/members", membersRoute.GET, "GET"],
    ["PATCH /api/team/members/:userId", memberRoute.PATCH, "PATCH"],
    ["DELETE /api/team/members/:userId", memberRoute.DELETE, "DELETE"],
    ["POST /api/team/leave", leaveRoute.POST, "POST"],
    ["POST /api/team/transfer-ownership", transferRoute.POST, "POST"],
  ];
  it.each(routes)("%s answers 401 without a session", async (_name, handler, method) => {
    const res = await call(handler, "/api/team/x", { method, body: method === "GET" || method === "DELETE" ? undefined : {} });
    expect(res.status).toBe(401);
  });
});

describe("inviting and accepting (local mode: the link is shown)", () => {
  it("the owner invites an address; the person who signs up with it accepts and joins at that role, once", async () => {
    const owner = await signUp("owner");
    const ws = await personalWorkspace(owner);
    const address = email("Invitee").replace("invitee", "InVitee");
    const res = await invite(owner, { email: ` ${address} `, role: "editor" });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ delivery: "link", invitation: { email: address.toLowerCase(), role: "editor", invitedBy: owner.email, status: "open" } });
    expect(body.link).toMatch(new RegExp(`^${BASE}/invite/[0-9a-f]{64}$`));
    // Only the hash is stored.
    const [stored] = await sql`select token_hash from public.workspace_invitations where id = ${body.invitation.id}`;
    expect(stored.token_hash).not.toBe(tokenOf(body.link));

    const listed = await (await call(invitationsRoute.GET, "/api/team/invitations", { user: owner })).json();
    expect(listed.invitations.map((i: { id: string }) => i.id)).toEqual([body.invitation.id]);

    const invitee = await signUpAs(address.toLowerCase());
    const accepted = await accept(invitee, tokenOf(body.link));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ workspaceId: ws, role: "editor" });
    const team = await (await members(invitee, ws)).json();
    expect(team.members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([
      [owner.email, "owner"],
      [address.toLowerCase(), "editor"],
    ]);
    expect(team.yourRole).toBe("editor");
    expect(team.manageableRoles).toEqual([]);
    expect(team.workspaces.map((w: { id: string }) => w.id)).toContain(ws);

    const again = await accept(invitee, tokenOf(body.link));
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe("invitation_used");
    expect((await (await call(invitationsRoute.GET, "/api/team/invitations", { user: owner })).json()).invitations).toEqual([]);
  });

  it("someone else holding the link cannot accept it", async () => {
    const owner = await signUp("owner");
    const { link } = await (await invite(owner, { email: email("meant-for"), role: "admin" })).json();
    const thief = await signUp("thief");
    const res = await accept(thief, tokenOf(link));
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("invitation_for_another_email");
    expect(await sql`select 1 from public.workspace_members where user_id = ${thief.id} and workspace_id = ${await personalWorkspace(owner)}`).toHaveLength(0);
  });

  it("an editor cannot invite; an admin cannot invite an admin; nobody invites an owner", async () => {
    const owner = await signUp("owner");
    const ws = await personalWorkspace(owner);
    const editor = await join(owner, ws, "editor");
    const admin = await join(owner, ws, "admin");
    const byEditor = await invite(editor, { email: email("x"), role: "viewer", workspaceId: ws });
    expect(byEditor.status).toBe(403);
    expect((await byEditor.json()).error.code).toBe("role_not_allowed");
    expect((await call(invitationsRoute.GET, `/api/team/invitations?workspaceId=${ws}`, { user: editor })).status).toBe(403);
    const adminByAdmin = await invite(admin, { email: email("x"), role: "admin", workspaceId: ws });
    expect(adminByAdmin.status).toBe(403);
    expect((await invite(admin, { email: email("x"), role: "viewer", workspaceId: ws })).status).toBe(201);
    const owners = await invite(owner, { email: email("x"), role: "owner" });
    expect(owners.status).toBe(400);
    expect((await owners.json()).error.issues[0].path).toBe("role");
    const bad = await invite(owner, { email: "not-an-address", role: "viewer" });
    expect((await bad.json()).error.issues[0].path).toBe("email");
  });

  it("a revoked invitation's link no longer works", async () => {
    const owner = await signUp("owner");
    const address = email("revoked");
    const { invitation, link } = await (await invite(owner, { email: address, role: "viewer" })).json();
    const res = await call(invitationRoute.DELETE, `/api/team/invitations/${invitation.id}`, { method: "DELETE", user: owner, params: { id: invitation.id } });
    expect(res.status).toBe(204);
    const invitee = await signUpAs(address);
    expect((await accept(invitee, tokenOf(link))).status).toBe(404);
  });

  it("another workspace's admin can neither see nor revoke this workspace's invitations", async () => {
    const owner = await signUp("owner");
    const { invitation } = await (await invite(owner, { email: email("kept"), role: "viewer" })).json();
    const stranger = await signUp("stranger");
    const res = await call(invitationRoute.DELETE, `/api/team/invitations/${invitation.id}`, { method: "DELETE", user: stranger, params: { id: invitation.id } });
    expect(res.status).toBe(404);
    expect((await call(invitationsRoute.GET, `/api/team/invitations?workspaceId=${await personalWorkspace(owner)}`, { user: stranger })).status).toBe(404);
    expect(await sql`select 1 from public.workspace_invitations where id = ${invitation.id}`).toHaveLength(1);
  });
});

describe("inviting over SMTP", () => {
  it("mails the link to the invited address and does not return it", async () => {
    const smtp = await startFakeSmtp();
    Object.assign(process.env, { PACER_SMTP_URL: smtp.url, PACER_MAIL_FROM: "Pacer <team@pacer.test>" });
    try {
      const owner = await signUp("owner");
      const address = email("mailed");
      const res = await invite(owner, { email: address, role: "viewer" });
      expect(res.status).toBe(201);
      const body = await res.json();
      expect(body.delivery).toBe("email");
      expect(body).not.toHaveProperty("link");
      expect(smtp.messages).toHaveLength(1);
      expect(smtp.messages[0]).toContain(`To: ${address}`);
      const token = smtp.messages[0].match(/\/invite\/([0-9a-f]{64})/)![1];
      expect((await accept(await signUpAs(address), token)).status).toBe(200);
    } finally {
      delete process.env.PACER_SMTP_URL;
      delete process.env.PACER_MAIL_FROM;
      await smtp.close();
    }
  });

  it("withdraws the invitation when the mail cannot be sent", async () => {
    const smtp = await startFakeSmtp();
    await smtp.close(); // nobody listens there now
    Object.assign(process.env, { PACER_SMTP_URL: smtp.url, PACER_MAIL_FROM: "team@pacer.test" });
    try {
      const owner = await signUp("owner");
      const res = await invite(owner, { email: email("unsent"), role: "viewer" });
      expect(res.status).toBe(502);
      expect((await res.json()).error.code).toBe("invitation_not_sent");
      expect(await sql`select 1 from public.workspace_invitations where workspace_id = ${await personalWorkspace(owner)}`).toHaveLength(0);
    } finally {
      delete process.env.PACER_SMTP_URL;
      delete process.env.PACER_MAIL_FROM;
    }
  });
});

describe("roles, removal, leaving and ownership", () => {
  let owner: TestUser;
  let admin: TestUser;
  let editor: TestUser;
  let viewer: TestUser;
  let ws: string;
  beforeAll(async () => {
    owner = await signUp("owner");
    ws = await personalWorkspace(owner);
    admin = await join(owner, ws, "admin");
    editor = await join(owner, ws, "editor");
    viewer = await join(owner, ws, "viewer");
  });

  it("an admin moves a viewer to editor and back, but cannot make anyone admin or touch the owner", async () => {
    const up = await changeRole(admin, ws, viewer.id, "editor");
    expect(up.status).toBe(200);
    expect((await up.json()).member).toMatchObject({ userId: viewer.id, role: "editor", email: viewer.email });
    const listed = (await (await members(owner, ws)).json()).members.find((m: { userId: string }) => m.userId === viewer.id);
    expect(listed.role).toBe("editor");
    expect((await changeRole(admin, ws, viewer.id, "viewer")).status).toBe(200);
    const promote = await changeRole(admin, ws, editor.id, "admin");
    expect(promote.status).toBe(403);
    expect((await promote.json()).error.message).toMatch(/^Your role \(admin\) does not allow changing an editor to admin\./);
    expect((await changeRole(admin, ws, owner.id, "viewer")).status).toBe(403);
    const self = await changeRole(admin, ws, admin.id, "viewer");
    expect(self.status).toBe(403);
    expect((await self.json()).error.code).toBe("own_role");
    const toOwner = await changeRole(owner, ws, admin.id, "owner");
    expect(toOwner.status).toBe(400);
  });

  it("an editor changes no roles", async () => {
    const res = await changeRole(editor, ws, viewer.id, "editor");
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("role_not_allowed");
  });

  it("another workspace's member ids, or another workspace, are not found", async () => {
    const stranger = await signUp("stranger");
    expect((await changeRole(owner, ws, stranger.id, "viewer")).status).toBe(404);
    expect((await remove(owner, ws, stranger.id)).status).toBe(404);
    expect((await changeRole(owner, await personalWorkspace(stranger), stranger.id, "viewer")).status).toBe(404);
    expect((await members(stranger, ws)).status).toBe(404);
    expect((await changeRole(owner, ws, "not-a-uuid", "viewer")).status).toBe(404);
  });

  it("an admin removes a viewer, who then has no access to the workspace", async () => {
    const gone = await join(owner, ws, "viewer", "removed");
    expect((await call(accountsRoute.GET, `/api/accounts?workspaceId=${ws}`, { user: gone })).status).toBe(200);
    expect((await remove(admin, ws, gone.id)).status).toBe(204);
    expect((await members(gone, ws)).status).toBe(404);
    expect((await call(accountsRoute.GET, `/api/accounts?workspaceId=${ws}`, { user: gone })).status).toBe(404);
    expect((await remove(admin, ws, gone.id)).status).toBe(404);
  });

  it("an admin cannot remove the owner; a member leaves; the owner cannot leave", async () => {
    expect((await remove(admin, ws, owner.id)).status).toBe(403);
    const leaver = await join(owner, ws, "editor", "leaver");
    const left = await call(leaveRoute.POST, "/api/team/leave", { method: "POST", user: leaver, body: { workspaceId: ws } });
    expect(left.status).toBe(200);
    expect((await members(leaver, ws)).status).toBe(404);
    const ownerLeaves = await call(leaveRoute.POST, "/api/team/leave", { method: "POST", user: owner, body: { workspaceId: ws } });
    expect(ownerLeaves.status).toBe(409);
    expect((await ownerLeaves.json()).error.code).toBe("last_owner");
  });

  it("only the owner transfers ownership; afterwards there is one owner, and the old one is an admin", async () => {
    const byAdmin = await call(transferRoute.POST, "/api/team/transfer-ownership", { method: "POST", user: admin, body: { workspaceId: ws, userId: admin.id } });
    expect(byAdmin.status).toBe(403);
    expect((await byAdmin.json()).error.code).toBe("owner_only");
    const res = await call(transferRoute.POST, "/api/team/transfer-ownership", { method: "POST", user: owner, body: { workspaceId: ws, userId: editor.id } });
    expect(res.status).toBe(200);
    const team = await (await members(owner, ws)).json();
    expect(team.members.filter((m: { role: string }) => m.role === "owner").map((m: { userId: string }) => m.userId)).toEqual([editor.id]);
    expect(team.yourRole).toBe("admin");
    expect(team.manageableRoles).toEqual(["viewer", "editor"]);
  });
});
