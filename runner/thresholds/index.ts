/** Thresholds: the grammar (parse.ts) and the judging (evaluate.ts). */
export * from './parse.ts';
export * from './evaluate.ts';
