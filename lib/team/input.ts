// What the team API accepts, as zod schemas shared by the team page's forms and the routes.
import { z } from "zod";

/** Roles a member can be given or invited at; ownership moves only by transfer. */
export const ASSIGNABLE_ROLES = ["viewer", "editor", "admin"] as const;
export type AssignableRole = (typeof ASSIGNABLE_ROLES)[number];

const workspaceId = z.uuid("workspaceId must be a workspace id (a UUID).").optional();
const role = z.enum(ASSIGNABLE_ROLES, "Choose a role: viewer, editor or admin (ownership moves only by transfer).");

export const inviteInput = z.object({
  email: z
    .string("Enter the email address to invite.")
    .trim()
    .toLowerCase()
    .max(320, "An email address has at most 320 characters.")
    .pipe(z.email("Enter an email address, e.g. sam@example.com.")),
  role,
  workspaceId,
});
export type InviteInput = z.input<typeof inviteInput>;

export const changeRoleInput = z.object({ role, workspaceId });

export const acceptInput = z.object({
  token: z.string("Send the invitation's token, from its link.").regex(/^[0-9a-f]{64}$/, "That is not an invitation token: copy the whole link."),
});

export const transferInput = z.object({
  userId: z.uuid("userId must be a member's user id (a UUID) from GET /api/team/members."),
  workspaceId,
});

export const leaveInput = z.object({ workspaceId });

export const memberId = z.uuid("The member's user id must be a UUID from GET /api/team/members.");
export const invitationId = z.uuid("The invitation's id must be a UUID from GET /api/team/invitations.");

/** "an admin", "a viewer": a role as a sentence names it. */
export const withArticle = (role: string) => `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
