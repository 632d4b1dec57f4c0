// GET, public: 200 while the schedule works and posts go out, 503 while any warning stands (the
// scheduler's, or an alert: success below 95 %, a duplicate post), for an uptime monitor to alert
// on. Warning codes only; operators read the details at /api/ops/scheduler and /api/ops/metrics.
import { health } from "@/lib/ops/scheduler";

export async function GET() {
  try {
    const result = await health();
    return Response.json(result, { status: result.status === "ok" ? 200 : 503, headers: { "cache-control": "no-store" } });
  } catch (error) {
    console.error(error);
    return Response.json(
      { status: "error", message: "The health check could not read the database." },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}
