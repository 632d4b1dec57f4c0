"use client";
// Every problem of every bad row (row, column, reason), a page at a time.
import { useState } from "react";
import type { BadRow } from "@/lib/import/read";
import { Button } from "@/components/ui/button";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";

const PAGE = 100;

export function BadRowsTable({ rows }: { rows: BadRow[] }) {
  const [page, setPage] = useState(0);
  const issues = rows.flatMap((r) => r.issues);
  const pages = Math.ceil(issues.length / PAGE);
  const shown = issues.slice(page * PAGE, (page + 1) * PAGE);
  return (
    <div className="grid gap-2">
      <Table data-cards aria-label="Rows with problems">
        <TableHeader>
          <TableRow>
            <TableHead className="w-16">Row</TableHead>
            <TableHead className="w-36">Column</TableHead>
            <TableHead>Problem</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          {shown.map((issue, i) => (
            <TableRow key={`${page}-${i}`}>
              <TableCell data-label="Row">{issue.row}</TableCell>
              <TableCell data-label="Column" className="font-mono">{issue.column}</TableCell>
              <TableCell data-label="Problem" className="whitespace-normal">{issue.message}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {pages > 1 && (
        <div className="flex items-center gap-2 text-sm">
          <Button size="sm" variant="outline" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Previous
          </Button>
          <span>
            Problems {page * PAGE + 1}–{Math.min((page + 1) * PAGE, issues.length)} of {issues.length.toLocaleString("en")}
          </span>
          <Button size="sm" variant="outline" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Next
          </Button>
        </div>
      )}
    </div>
  );
}
