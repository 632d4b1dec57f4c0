// Checkbox in shadcn/ui's look, on the native input so it takes part in forms and FormData as is.
// No outline-none: a native checkbox may not draw the ring (a box-shadow), so the global focus outline shows.
import * as React from "react";

import { cn } from "@/components/ui/cn";

function Checkbox({ className, ...props }: Omit<React.ComponentProps<"input">, "type">) {
  return (
    <input
      type="checkbox"
      data-slot="checkbox"
      className={cn(
        "size-4 shrink-0 rounded-[4px] border border-input accent-primary shadow-xs disabled:cursor-not-allowed disabled:opacity-50",
        "focus-visible:border-ring focus-visible:ring-[3px] focus-visible:ring-ring/50",
        "aria-invalid:border-destructive aria-invalid:ring-destructive/20",
        className,
      )}
      {...props}
    />
  );
}

export { Checkbox };
