// GET the review queue: items needing review (with their attempts and the external ids seen),
// posted records whose post is missing on the platform, and accounts needing a person.
// ?limit= (1–200, default 50 of each), ?workspaceId=.
import { listReview } from "@/lib/review";
import { withUser } from "@/lib/api/handler";

export const GET = withUser("read", async (request, user) => {
  const query = Object.fromEntries(new URL(request.url).searchParams);
  return Response.json(await listReview(user, query));
});
