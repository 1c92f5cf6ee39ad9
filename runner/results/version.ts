/**
 * The results file's format version and its schema. Version 1 (files without `schema_version`)
 * is what runner wrote before version 2 renamed the timeline, watch, trends and threshold fields
 * to snake_case with their unit (names.ts upgrades it on reading).
 */

/** The version `runner run` and `runner merge` write, in the file's `schema_version`. */
export const RESULTS_SCHEMA_VERSION = 2;

/** The schema of the version written, relative to the package root (also its `$id`'s file name). */
export const RESULTS_SCHEMA_FILE = 'schemas/results.schema.json';
