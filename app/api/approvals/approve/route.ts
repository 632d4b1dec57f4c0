// POST approves several submissions as they are (admins and owners): the approvals page's "Approve
// all shown", for an editor's CSV rows that wait one submission each. Each is queued, or listed with why not.
import { readJson, withUser } from "@/lib/api/handler";
import { approveSubmissions, type ApproveManyInput } from "@/lib/approvals";

export const POST = withUser("write", async (request, user) => Response.json(await approveSubmissions(user, await readJson<ApproveManyInput>(request))));
