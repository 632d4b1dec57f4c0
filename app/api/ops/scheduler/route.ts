// GET: the schedule's state for operators: each scheduled function's calls and answers, and the warnings.
import { withUser } from "@/lib/api/handler";
import { schedulerStatus } from "@/lib/ops/scheduler";

export const GET = withUser("read", async (_request, user) => Response.json(await schedulerStatus(user)));
