// notFound() inside the dashboard (an item or page that is not there): shown inside the dashboard's
// frame, so the navigation stays at hand, with a way back to the overview.
import Link from "next/link";
import { Button } from "@/components/ui/button";

export default function DashboardNotFound() {
  return (
    <div className="grid max-w-xl gap-3 py-8">
      <p className="text-sm font-medium text-muted-foreground">404</p>
      <h1 className="text-2xl font-semibold tracking-tight">This page does not exist</h1>
      <p className="text-muted-foreground">
        It may have been removed, or it belongs to a workspace you are not a member of.
      </p>
      <div>
        <Button asChild>
          <Link href="/dashboard">Back to the overview</Link>
        </Button>
      </div>
    </div>
  );
}
