// GET: the ways this installation offers to connect an account (the operator's PACER_CONNECTORS; the sandbox always).
import { withUser } from "@/lib/api/handler";
import { offeredConnections } from "@/lib/accounts/offered";

export const GET = withUser("read", async () => Response.json({ offered: offeredConnections() }));
