"use client";
// The workspace's latest imports: which file, when, and how its rows went.
import type { ImportRecord } from "@/lib/import/input";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { When } from "@/components/time/when";

export function RecentImports({ imports }: { imports: ImportRecord[] }) {
  if (imports.length === 0) return <p className="text-sm text-muted-foreground">No imports yet.</p>;
  return (
    <Table data-cards aria-label="Recent imports">
      <TableHeader>
        <TableRow>
          <TableHead>File</TableHead>
          <TableHead>Started</TableHead>
          <TableHead className="text-right">Rows in file</TableHead>
          <TableHead className="text-right">Imported</TableHead>
          <TableHead className="text-right">With problems</TableHead>
          <TableHead className="text-right">Sent again</TableHead>
          <TableHead className="text-right">Changed, not imported</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {imports.map((i) => (
          <TableRow key={i.id}>
            <TableCell className="font-medium">{i.fileName}</TableCell>
            <TableCell data-label="Started">
              <When at={i.createdAt} />
            </TableCell>
            <TableCell data-label="Rows in file" className="text-right">{i.rowsInFile.toLocaleString("en")}</TableCell>
            <TableCell data-label="Imported" className="text-right">{i.rowsImported.toLocaleString("en")}</TableCell>
            <TableCell data-label="With problems" className="text-right">{i.rowsBad.toLocaleString("en")}</TableCell>
            <TableCell data-label="Sent again" className="text-right">{i.rowsRepeated.toLocaleString("en")}</TableCell>
            <TableCell data-label="Changed, not imported" className="text-right">{i.rowsChanged.toLocaleString("en")}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
