// Meter: a bar showing how much of a fixed allowance is used (shadcn/ui's Progress shape, with role="meter").
import * as React from "react";

import { cn } from "@/components/ui/cn";

function Meter({
  className,
  value,
  max,
  ...props
}: Omit<React.ComponentProps<"div">, "role"> & { value: number; max: number }) {
  const percent = max > 0 ? Math.min(100, Math.max(0, (value / max) * 100)) : 0;
  return (
    <div
      data-slot="meter"
      role="meter"
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      className={cn("relative h-2 w-full overflow-hidden rounded-full bg-primary/20", className)}
      {...props}
    >
      <div
        data-slot="meter-indicator"
        className="h-full bg-primary transition-[width] data-[full=true]:bg-destructive"
        data-full={value >= max}
        style={{ width: `${percent}%` }}
      />
    </div>
  );
}

export { Meter };
