// GET each offered platform's text limit (and how it is counted) and posting limits, for ?workspaceId= or the default workspace.
import { withUser } from "@/lib/api/handler";
import { listPlatformLimits } from "@/lib/queue/platform-limits";

export const GET = withUser("read", async (request, user) =>
  Response.json(await listPlatformLimits(user, new URL(request.url).searchParams.get("workspaceId"))),
);
