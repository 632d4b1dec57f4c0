// POST moves waiting queue items to a new time: { itemIds, scheduledFor } (editors and up; audited; all or none).
import { rescheduleQueueItems, type RescheduleInput } from "@/lib/calendar";
import { readJson, withUser } from "@/lib/api/handler";

export const POST = withUser("write", async (request, user) => {
  return Response.json(await rescheduleQueueItems(user, await readJson<RescheduleInput>(request)));
});
