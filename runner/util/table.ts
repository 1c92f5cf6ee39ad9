/**
 * Plain-text tables for the terminal: columns padded to their widest cell, numbers right
 * aligned, colour applied after padding so escape codes never skew the columns.
 */
import { paint, type Style } from './color.ts';

/** One cell: its text and an optional style applied when colour is on. */
export interface Cell {
  text: string;
  color?: Style;
}

/** Column alignment. */
export type Align = 'left' | 'right';

/**
 * Renders rows (the first is usually the header) as aligned columns separated by two spaces,
 * each line starting with `indent` and without trailing spaces. Widths count code points.
 */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<Cell | string>>, align: readonly Align[], color: boolean, indent = ''): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? { text: cell } : cell)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell.text].length)));
  return cells
    .map((row) =>
      indent + row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - [...cell.text].length);
          const padded = align[i] === 'right' ? pad + cell.text : cell.text + pad;
          return cell.color === undefined ? padded : paint(cell.color, padded, color);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
