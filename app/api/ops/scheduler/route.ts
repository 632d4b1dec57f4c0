// GET: the schedule's state for operators: each scheduled function's calls and answers, and the warnings.
// People only (withSession): operators' views span every workspace, which no workspace's API key may reach.
import { withSession } from "@/lib/api/handler";
import { schedulerStatus } from "@/lib/ops/scheduler";

export const GET = withSession("read", async (_request, user) => Response.json(await schedulerStatus(user)));
