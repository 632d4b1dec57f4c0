// Why a post's content may not change now, as private.post_edit_refusal decides it for the caller:
// the calendar and the queue's item detail offer editing only when it is null, and say why not.

export type EditRefusal = "sending" | "approval_required";

export const EDIT_REFUSAL_MESSAGES: Record<EditRefusal, string> = {
  sending: "Pacer has started sending this post, so it can no longer change.",
  approval_required:
    "Editors' changes need an admin's approval in this workspace: ask an admin to change it, or cancel it and queue the new version, which waits for approval.",
};
