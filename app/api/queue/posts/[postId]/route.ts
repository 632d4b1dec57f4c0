// PATCH changes a post not yet sent: { text?, mediaUrls?, firstComment?, destination?, thread?, platformOptions? } (editors and up; audited).
import { editPost, type EditPostInput } from "@/lib/calendar";
import { readJson, withUser } from "@/lib/api/handler";

type Ctx = { params: Promise<{ postId: string }> };

export const PATCH = withUser<Ctx>("write", async (request, user, { params }) => {
  return Response.json(await editPost(user, (await params).postId, await readJson<EditPostInput>(request)));
});
