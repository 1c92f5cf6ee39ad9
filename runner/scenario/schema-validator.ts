/**
 * The compiled validator of schemas/scenario.schema.json. Here it is compiled with ajv on first
 * use (tests run the sources); dist/ replaces this module with the same validator precompiled
 * by build.mjs (ajv's standalone code, same options), so `runner run` never spends the ~100 ms
 * that compiling the schema costs at start-up.
 */
import { createRequire } from 'node:module';
import type { Options, ValidateFunction } from 'ajv';
import schema from '../../schemas/scenario.schema.json' with { type: 'json' };

/** ajv's options for the scenario schema; build.mjs compiles with the same ones. */
export const SCENARIO_SCHEMA_AJV_OPTIONS: Options = { allErrors: true, verbose: true, strict: true, allowUnionTypes: true };

let compiled: ValidateFunction | undefined;

/** The scenario schema's validator (compiled once). */
export function scenarioSchemaValidator(): ValidateFunction {
  if (!compiled) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    compiled = new Ajv(SCENARIO_SCHEMA_AJV_OPTIONS).compile(schema);
  }
  return compiled;
}
