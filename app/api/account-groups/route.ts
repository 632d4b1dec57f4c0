// GET lists the workspace's account groups; POST adds one (editors and up).
import { withUser, readJson } from "@/lib/api/handler";
import { createGroup, listGroups } from "@/lib/accounts/groups";

export const GET = withUser("read", async (request, user) => {
  return Response.json(await listGroups(user, new URL(request.url).searchParams.get("workspaceId")));
});

export const POST = withUser("write", async (request, user) => {
  return Response.json({ group: await createGroup(user, await readJson(request)) }, { status: 201 });
});
