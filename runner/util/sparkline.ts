/** A terminal sparkline: one block character per value, scaled from 0 to the largest value. */

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * `values` as block characters, the largest value a full block and 0 a space (nothing planned
 * there); any value above 0 gets at least the lowest block, so it never reads as nothing.
 */
export function formatSparkline(values: readonly number[]): string {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return values
    .map((value) => {
      if (!(value > 0) || max === 0) return ' ';
      const index = Math.ceil((value / max) * BLOCKS.length) - 1;
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.max(0, index))];
    })
    .join('');
}
