// What a section shows while its data loads, or when loading failed.
import { CircleAlert } from "lucide-react";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";

export function LoadState({ what, error }: { what: string; error: Error | null }) {
  if (!error) {
    return (
      <p className="text-sm text-muted-foreground" role="status">
        Loading {what}…
      </p>
    );
  }
  return (
    <Alert variant="destructive">
      <CircleAlert aria-hidden />
      <AlertTitle>Could not load {what}</AlertTitle>
      <AlertDescription>{error.message}</AlertDescription>
    </Alert>
  );
}
