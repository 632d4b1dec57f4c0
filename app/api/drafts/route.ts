// GET the workspace's drafts, most recently changed first (?workspaceId=); POST { content, workspaceId? } saves a new one.
import { readJson, withUser } from "@/lib/api/handler";
import { createDraft, listDrafts, type CreateDraftInput } from "@/lib/drafts";

export const GET = withUser("read", async (request, user) =>
  Response.json(await listDrafts(user, new URL(request.url).searchParams.get("workspaceId"))),
);

export const POST = withUser("write", async (request, user) =>
  Response.json({ draft: await createDraft(user, await readJson<CreateDraftInput>(request)) }, { status: 201 }),
);
