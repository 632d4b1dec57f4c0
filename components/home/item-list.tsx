// A short list of queue items as the home shows them: stacked, so they fit a phone without scrolling sideways.
import type { ReactNode } from "react";
import type { HomeItem } from "@/lib/home";
import { platformName } from "@/components/accounts/platforms";
import { When } from "@/components/time/when";

export function ItemList({ items, label, detail }: { items: HomeItem[]; label: string; detail: (item: HomeItem) => ReactNode }) {
  return (
    <ul aria-label={label} className="grid gap-3">
      {items.map((item) => (
        <li key={item.id} className="grid min-w-0 gap-1 rounded-lg border p-3 text-sm">
          <p className="line-clamp-2 break-words font-medium">{item.text}</p>
          <p className="break-words text-muted-foreground">
            @{item.handle} · {platformName(item.platform)}
          </p>
          {detail(item)}
        </li>
      ))}
    </ul>
  );
}

export function ItemTime({ label, at }: { label: string; at: string }) {
  return (
    <p className="text-muted-foreground">
      {label} <When at={at} />
    </p>
  );
}
