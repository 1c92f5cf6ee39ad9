/**
 * The `target` of a results file: host:port, or for a merged file its parts' targets joined
 * with ', ' (runner merge). Merging or reporting over merged files splits them again, so each
 * target is named once.
 */

const SEPARATOR = ', ';

/** The distinct host:port targets of some files' `target` fields, in order of first appearance. */
export function distinctTargets(targets: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const target of targets) for (const part of target.split(SEPARATOR)) if (part !== '') seen.add(part);
  return [...seen];
}

/** The `target` field of a merge of files with these targets. */
export function mergedTarget(targets: Iterable<string>): string {
  return distinctTargets(targets).join(SEPARATOR);
}
