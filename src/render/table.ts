import Table from 'cli-table3';

/**
 * A kubectl-style table: upper-case headers, no borders, columns separated
 * by three spaces, empty cells shown as "<none>" only where the caller says.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
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
