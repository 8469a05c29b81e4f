import Table from 'cli-table3';

/**
 * A kubectl-style table: upper-case headers, no borders, columns separated
 * by three spaces, empty cells shown as "<none>" only where the caller says.
 *
 * Two layouts give the same text. Cells of printable ASCII (and colour codes)
 * are one column per character, so alignColumns lays them out directly: that
 * is what Kubernetes names, MACs and IPs are, and it keeps cli-table3's cost
 * (several milliseconds of a ~100 ms `status`) out of start-up. A cell with
 * any other character goes through cli-table3, whose width rules know about
 * wide (East Asian) characters, emoji and combining marks. Above
 * LARGE_TABLE_ROWS rows alignColumns is used whatever the text.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length > LARGE_TABLE_ROWS || (isNarrow(headers) && rows.every(isNarrow))) return alignColumns(headers, rows);
  return cliTableLayout(headers, rows);
}

/** cli-table3's layout of the table (the general case of renderTable). */
export function cliTableLayout(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const table = new Table({
    head: [...headers],
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    wordWrap: false,
  });
  for (const row of rows) table.push([...row]);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n') + '\n';
}

const NARROW = /^(?:[\x20-\x7e]|\u001b\[[0-9;]*m)*$/;
/** Every cell is printable ASCII, colour codes aside: one terminal column per character. */
const isNarrow = (cells: readonly string[]) => cells.every((c) => NARROW.test(c));

/**
 * Above this many rows the table is laid out by alignColumns, whatever the
 * characters: cli-table3's layout grows quadratically with the row count
 * (1,000 rows take about a second, 10,000 close to a minute), which breaks
 * "5,000 VMs in seconds" for status, mac list and the rest.
 */
export const LARGE_TABLE_ROWS = 300;

const ANSI = /\u001b\[[0-9;]*m/g;
const visibleWidth = (s: string) => [...s.replace(ANSI, '')].length;

/** The same layout as cliTableLayout for narrow text (columns separated by three spaces, no borders, lines trimmed), in linear time. */
export function alignColumns(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h) => visibleWidth(h));
  for (const r of rows) for (let i = 0; i < r.length; i++) widths[i] = Math.max(widths[i] ?? 0, visibleWidth(r[i]));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i] - visibleWidth(c)))).join('   ').trimEnd();
  const out: string[] = [line(headers)];
  for (const r of rows) out.push(line(r));
  return out.join('\n') + '\n';
}
