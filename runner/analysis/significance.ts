/**
 * The one significance rule of runner, used by the trend verdicts of a run (trend-detect.ts)
 * and by `runner compare`: a trend or a difference is *significant* when its two-sided p-value
 * is below 0.01. Stricter than the customary 0.05 on purpose: a comparison tests a dozen rows
 * and a run tests three trends at once, and a CI gate that cries wolf once in twenty runs gets
 * switched off. Significance alone is never a verdict: each use also asks for an effect size
 * that matters (compare: a relative change of at least 1%; trends: see trend-detect.ts).
 */

/** Significance level of every test: p < this is significant. */
export const SIGNIFICANCE_ALPHA = 0.01;

/** The rule in words, for legends and help texts. */
export const SIGNIFICANCE_RULE = `significant: two-sided p < ${SIGNIFICANCE_ALPHA}`;

/** Whether a p-value is significant at `alpha` (the rule's level unless a command was given another, e.g. compare --alpha). */
export function isSignificant(pValue: number | null, alpha: number = SIGNIFICANCE_ALPHA): boolean {
  return pValue !== null && pValue < alpha;
}

/** A p-value as the outputs print it: 'p<0.001', 'p=0.014'. */
export function formatPValue(pValue: number): string {
  return pValue < 0.001 ? 'p<0.001' : `p=${pValue.toFixed(3)}`;
}
