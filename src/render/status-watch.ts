/**
 * The presenter of `status -w`. On a terminal, the whole table, redrawn in
 * place by the command; otherwise, as `kubectl get -w`: the table once, then
 * one line per interface row that changed (no header again), or with -o
 * json|yaml one document per VM that changed (JSON: one object per line).
 * Warnings are told once each (with -o json|yaml they are in the objects).
 */
import type { StatusUpdate } from '../core/status-watch.js';
import { formatDocument, type Paint } from './output.js';
import { statusTable, statusWarnings } from './status.js';
import { renderTable } from './table.js';

export interface WatchOutput {
  /** Text to append to stdout (stream mode), or the whole frame (redraw mode). */
  stdout: string;
  /** Lines for stderr: warnings not told before (and, in stream mode, the note that nothing matched). */
  stderr: string[];
}

export class StatusWatchPrinter {
  private readonly rows = new Map<string, string>();
  private readonly told = new Set<string>();
  private started = false;
  private toldEmpty = false;

  constructor(private readonly o: { format: 'table' | 'wide' | 'json' | 'yaml'; showNamespace: boolean; redraw: boolean; paint?: Paint; empty: string }) {}

  private newWarnings(u: StatusUpdate): string[] {
    const fresh = statusWarnings(u.items).filter((w) => !this.told.has(w));
    for (const w of fresh) this.told.add(w);
    return fresh;
  }

  update(u: StatusUpdate): WatchOutput {
    const { format } = this.o;
    if (format === 'json' || format === 'yaml') {
      // As without -w: the warnings are in each object's "warnings", not on stderr.
      const changed = new Set(u.changed);
      const docs = u.items.filter((it) => changed.has(`${it.namespace}/${it.name}`));
      const stdout = docs.map((d) => (format === 'json' ? `${JSON.stringify(d)}\n` : `---\n${formatDocument(d, 'yaml')}`)).join('');
      return { stdout, stderr: [] };
    }
    const warnings = this.newWarnings(u);
    const wide = format === 'wide';
    if (this.o.redraw) {
      if (u.items.length === 0) return { stdout: `${this.o.empty}\n`, stderr: warnings };
      const { headers, rows } = statusTable(u.items, { wide, showNamespace: this.o.showNamespace, paint: this.o.paint });
      return { stdout: renderTable(headers, rows), stderr: warnings };
    }
    // Stream: the rows that differ from the ones printed (each row keyed by VM and interface).
    const { headers, rows } = statusTable(u.items, { wide, showNamespace: this.o.showNamespace });
    const lead = this.o.showNamespace ? 2 : 1;
    const fresh: string[][] = [];
    for (const row of rows) {
      const key = row.slice(0, lead + 1).join('\u0000');
      const text = row.join('\u0000');
      if (this.rows.get(key) === text) continue;
      this.rows.set(key, text);
      fresh.push(row);
    }
    if (!this.started) {
      // The header comes with the first rows: with nothing in scope yet, the note (once), then the table when a VM comes.
      if (rows.length === 0) {
        const note = this.toldEmpty ? [] : [this.o.empty];
        this.toldEmpty = true;
        return { stdout: '', stderr: [...note, ...warnings] };
      }
      this.started = true;
      return { stdout: renderTable(headers, fresh), stderr: warnings };
    }
    if (fresh.length === 0) return { stdout: '', stderr: warnings };
    // As kubectl get -w: the changed rows without the header, aligned among themselves.
    const text = renderTable(headers, fresh);
    return { stdout: text.slice(text.indexOf('\n') + 1), stderr: warnings };
  }
}
