/**
 * Plain-text tables for compare and report: columns padded to their widest cell, numbers right
 * aligned, colour applied after padding so escape codes never skew the columns.
 */

/** One cell: its text and an optional ANSI colour code applied when colour is on. */
export interface Cell {
  text: string;
  color?: number;
}

/** Column alignment. */
export type Align = 'left' | 'right';

/** Renders rows (the first is the header) as aligned columns separated by two spaces. */
export function formatTable(rows: ReadonlyArray<ReadonlyArray<Cell | string>>, align: readonly Align[], color: boolean): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? { text: cell } : cell)));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell.text].length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - [...cell.text].length);
          const padded = align[i] === 'right' ? pad + cell.text : cell.text + pad;
          return color && cell.color !== undefined ? paint(cell.color, padded) : padded;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Wraps text in an ANSI colour code. */
export function paint(code: number, text: string): string {
  return `\u001b[${code}m${text}\u001b[0m`;
}

/** ANSI colour codes used by the analysis tables. */
export const COLORS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** A signed percentage for people: '+140%', '−63%', '+4.2%', '0%' (typographic minus). */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return '-';
  const percent = fraction * 100;
  const magnitude = Math.abs(percent);
  const digits = magnitude >= 10 || magnitude === 0 ? 0 : 1;
  const text = magnitude.toFixed(digits);
  if (Number(text) === 0) return '0%';
  return `${percent < 0 ? '−' : '+'}${text}%`;
}

/** A p-value for people: '<0.001', '0.034', '1.000'; '-' when not tested. */
export function formatPValue(p: number | null): string {
  if (p === null || Number.isNaN(p)) return '-';
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}
