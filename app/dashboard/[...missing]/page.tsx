// Any /dashboard/<address> no page matches: the dashboard's own 404 (app/dashboard/not-found.tsx),
// inside its frame, instead of the bare site-wide one. Real pages always win over this catch-all.
import { notFound } from "next/navigation";

export default function MissingDashboardPage() {
  notFound();
}
