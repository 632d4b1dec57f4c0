// Each status's colours on the calendar, close to the queue's badges (components/queue/statuses.ts).
// Plain colours rather than Tailwind classes: FullCalendar's own stylesheet would outrank a class.
import type { QueueStatus } from "@/lib/queue/types";

export const statusColours: Record<QueueStatus, { background: string; border: string; text: string }> = {
  pending: { background: "#e2e8f0", border: "#64748b", text: "#1e293b" },
  rate_limited: { background: "#fef3c7", border: "#d97706", text: "#78350f" },
  processing: { background: "#e0f2fe", border: "#0284c7", text: "#0c4a6e" },
  verifying: { background: "#ede9fe", border: "#7c3aed", text: "#4c1d95" },
  posted: { background: "#d1fae5", border: "#059669", text: "#064e3b" },
  failed: { background: "#fee2e2", border: "#dc2626", text: "#7f1d1d" },
  cancelled: { background: "#f4f4f5", border: "#a1a1aa", text: "#52525b" },
  needs_review: { background: "#ffedd5", border: "#ea580c", text: "#7c2d12" },
};
