"use client";
// The columns an import file may have, what each holds, and the template to start from.
import { Download } from "lucide-react";
import { COLUMN_HELP, IMPORT_COLUMNS, MAX_IMPORT_ROWS } from "@/lib/import/columns";
import { templateCsv } from "@/lib/import/read";
import { Button } from "@/components/ui/button";
import { Card, CardAction, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { downloadText } from "./download";

export function ColumnsCard({ exampleAccount }: { exampleAccount: string | null }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h2>Columns</h2>
        </CardTitle>
        <CardDescription>
          One row per post, at most {MAX_IMPORT_ROWS.toLocaleString("en")} per file, comma- or semicolon-separated, with a header row
          (any case). Columns Pacer does not know are reported, not ignored.
        </CardDescription>
        <CardAction>
          <Button variant="outline" onClick={() => downloadText("pacer-import-template.csv", templateCsv(exampleAccount ?? undefined))}>
            <Download aria-hidden />
            Download the template
          </Button>
        </CardAction>
      </CardHeader>
      <CardContent>
        <dl className="grid gap-2 text-sm sm:grid-cols-[10rem_1fr]">
          {IMPORT_COLUMNS.map((column) => (
            <div key={column} className="contents">
              <dt className="font-mono font-medium">{column}</dt>
              <dd className="text-muted-foreground">{COLUMN_HELP[column]}</dd>
            </div>
          ))}
        </dl>
        <p className="mt-4 text-sm text-muted-foreground">
          Cells that begin with = + - or @ are imported as text. Pacer&apos;s own files put a &apos; before such cells so a spreadsheet
          cannot run them as formulas; that &apos; is removed again on import.
        </p>
      </CardContent>
    </Card>
  );
}
