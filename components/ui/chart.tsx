"use client";
// Chart (shadcn/ui's chart component): recharts inside a responsive container, with colours and
// labels from a config (each series' colour becomes the CSS variable --color-<key>), and a tooltip
// and legend in the design system's look. Compose charts from recharts' own parts inside it.
import * as React from "react";
import * as RechartsPrimitive from "recharts";

import { cn } from "@/components/ui/cn";

// Theme name → the selector under which its colours apply.
const THEMES = { light: "", dark: ".dark" } as const;

export type ChartConfig = Record<
  string,
  { label?: React.ReactNode; icon?: React.ComponentType } & (
    | { color?: string; theme?: never }
    | { color?: never; theme: Record<keyof typeof THEMES, string> }
  )
>;

const ChartContext = React.createContext<{ config: ChartConfig } | null>(null);

function useChart() {
  const context = React.useContext(ChartContext);
  if (!context) throw new Error("useChart must be used within a <ChartContainer />");
  return context;
}

function ChartContainer({
  id,
  className,
  children,
  config,
  ...props
}: React.ComponentProps<"div"> & {
  config: ChartConfig;
  children: React.ComponentProps<typeof RechartsPrimitive.ResponsiveContainer>["children"];
}) {
  const uniqueId = React.useId();
  const chartId = `chart-${id ?? uniqueId.replace(/:/g, "")}`;
  return (
    <ChartContext.Provider value={{ config }}>
      <div
        data-slot="chart"
        data-chart={chartId}
        className={cn(
          "flex aspect-video justify-center text-xs [&_.recharts-cartesian-axis-tick_text]:fill-muted-foreground [&_.recharts-cartesian-grid_line[stroke='#ccc']]:stroke-border/50 [&_.recharts-curve.recharts-tooltip-cursor]:stroke-border [&_.recharts-dot[stroke='#fff']]:stroke-transparent [&_.recharts-layer]:outline-hidden [&_.recharts-rectangle.recharts-tooltip-cursor]:fill-muted [&_.recharts-reference-line_[stroke='#ccc']]:stroke-border [&_.recharts-sector]:outline-hidden [&_.recharts-surface]:outline-hidden",
          className,
        )}
        {...props}
      >
        <ChartStyle id={chartId} config={config} />
        <RechartsPrimitive.ResponsiveContainer initialDimension={{ width: 320, height: 200 }}>
          {children}
        </RechartsPrimitive.ResponsiveContainer>
      </div>
    </ChartContext.Provider>
  );
}

/** Each configured series' colour as --color-<key>, per theme, scoped to this chart. */
function ChartStyle({ id, config }: { id: string; config: ChartConfig }) {
  const coloured = Object.entries(config).filter(([, item]) => item.theme ?? item.color);
  if (!coloured.length) return null;
  const css = Object.entries(THEMES)
    .map(([theme, prefix]) => {
      const vars = coloured
        .map(([key, item]) => {
          const color = item.theme?.[theme as keyof typeof THEMES] ?? item.color;
          return color ? `  --color-${key}: ${color};` : null;
        })
        .filter(Boolean)
        .join("\n");
      return `${prefix} [data-chart=${id}] {\n${vars}\n}`;
    })
    .join("\n");
  return <style dangerouslySetInnerHTML={{ __html: css }} />;
}

const ChartTooltip = RechartsPrimitive.Tooltip;

interface TooltipEntry {
  name?: string | number;
  dataKey?: string | number | ((obj: unknown) => unknown);
  value?: unknown;
  color?: string;
  type?: string;
  payload?: Record<string, unknown>;
}

function ChartTooltipContent({
  active,
  payload,
  label,
  className,
  hideLabel = false,
  hideIndicator = false,
  labelFormatter,
  valueFormatter,
  nameKey,
}: {
  active?: boolean;
  payload?: ReadonlyArray<TooltipEntry>;
  label?: React.ReactNode;
  className?: string;
  hideLabel?: boolean;
  hideIndicator?: boolean;
  labelFormatter?: (label: React.ReactNode, payload: ReadonlyArray<TooltipEntry>) => React.ReactNode;
  valueFormatter?: (value: unknown, name: string) => React.ReactNode;
  nameKey?: string;
}) {
  const { config } = useChart();
  if (!active || !payload?.length) return null;
  const shown = payload.filter((item) => item.type !== "none");
  const heading = hideLabel ? null : labelFormatter ? labelFormatter(label, shown) : label;
  return (
    <div
      className={cn(
        "grid min-w-[8rem] items-start gap-1.5 rounded-lg border border-border/50 bg-background px-2.5 py-1.5 text-xs shadow-xl",
        className,
      )}
    >
      {heading != null && heading !== "" && <div className="font-medium">{heading}</div>}
      <div className="grid gap-1.5">
        {shown.map((item, index) => {
          const key = String(nameKey ? item.payload?.[nameKey] : (item.dataKey ?? item.name ?? "value"));
          const itemConfig = config[key];
          const color = (item.payload?.fill as string | undefined) ?? item.color;
          return (
            <div key={index} className="flex w-full items-center gap-2">
              {!hideIndicator && (
                <div className="size-2.5 shrink-0 rounded-[2px]" style={{ backgroundColor: color }} aria-hidden />
              )}
              <div className="flex flex-1 items-center justify-between gap-2 leading-none">
                <span className="text-muted-foreground">{itemConfig?.label ?? item.name}</span>
                {item.value != null && (
                  <span className="font-mono font-medium text-foreground tabular-nums">
                    {valueFormatter
                      ? valueFormatter(item.value, key)
                      : typeof item.value === "number"
                        ? item.value.toLocaleString()
                        : String(item.value)}
                  </span>
                )}
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}

const ChartLegend = RechartsPrimitive.Legend;

function ChartLegendContent({
  className,
  payload,
  verticalAlign = "bottom",
}: React.ComponentProps<"div"> & {
  payload?: ReadonlyArray<{ value?: unknown; dataKey?: unknown; color?: string; type?: string }>;
  verticalAlign?: "top" | "bottom" | "middle";
}) {
  const { config } = useChart();
  if (!payload?.length) return null;
  return (
    <div className={cn("flex flex-wrap items-center justify-center gap-4", verticalAlign === "top" ? "pb-3" : "pt-3", className)}>
      {payload
        .filter((item) => item.type !== "none")
        .map((item) => {
          const key = String(item.dataKey ?? "value");
          return (
            <div key={key} className="flex items-center gap-1.5">
              <div className="size-2 shrink-0 rounded-[2px]" style={{ backgroundColor: item.color }} aria-hidden />
              {config[key]?.label ?? String(item.value ?? key)}
            </div>
          );
        })}
    </div>
  );
}

export { ChartContainer, ChartTooltip, ChartTooltipContent, ChartLegend, ChartLegendContent, ChartStyle };
