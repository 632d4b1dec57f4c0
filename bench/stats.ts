// Small statistics and table printing for the benchmark: medians, percentiles, fixed-width tables.

export function median(xs: number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile (p in 0..100) of a sample; NaN for an empty one. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return "–";
  return `${(a / b).toFixed(2)}×`;
}

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** Lines under the table: what was measured and how. */
  notes?: string[];
  /** How many leading columns hold text (left-aligned); the rest are figures. Default 1. */
  textColumns?: number;
}

/** A table as aligned plain text, for the terminal. */
export function toText(t: Table): string {
  const widths = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? "").length)));
  const text = t.textColumns ?? 1;
  const line = (cells: string[]) => cells.map((c, i) => (i < text ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [`\n${t.title}`, line(t.head), widths.map((w) => "-".repeat(w)).join("  "), ...t.rows.map(line), ...(t.notes ?? []).map((n) => `  ${n}`)].join("\n");
}

/** A table as Markdown, for docs/benchmarks.md. */
export function toMarkdown(t: Table): string {
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const align = t.head.map((_, i) => (i < (t.textColumns ?? 1) ? "---" : "---:"));
  return [`### ${t.title}`, "", row(t.head), row(align), ...t.rows.map(row), "", ...(t.notes ?? []).map((n) => `${n}  `)].join("\n");
}
