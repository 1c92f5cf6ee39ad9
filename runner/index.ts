/**
 * The public API scenario files import: `import { defineScenario, Trend } from 'runner'`.
 * Inside a run, the scenario loader points the 'runner' import at this very module of the
 * running process, so custom metrics land in the engine's registry.
 */
import type { ScenarioFileOptions } from './scenario/types.ts';

/** Declares a scenario file's options with type checking and editor completion; returns them as is. */
export function defineScenario<SetupData = unknown>(options: ScenarioFileOptions<SetupData>): ScenarioFileOptions<SetupData> {
  return options;
}

export { Counter, Rate, Trend, Gauge } from './metrics/custom.ts';
export { SmtpStepError } from './smtp/api.ts';
export { buildMessage, MessageTemplate, MessageBuildError, type MessageSpec, type AttachmentSpec, type GeneratedAttachment, type FileAttachment } from './smtp/builder.ts';
export { check, replyClass, replyCode, enhancedCode, replyText, type ReplyLike } from './script/check.ts';
export { sleep } from './script/sleep.ts';
export { open, openCsv, openJson, parseCsv, pick, DataFileError, type CsvRow, type PickMode } from './script/data.ts';
export type { CheckCondition, CheckSets, ThinkTime, ThinkDuration } from './script/types.ts';
export type { IterationContext, SmtpSteps, Reply, Failure, SendOptions, MailStepOptions } from './smtp/api.ts';
export type * from './scenario/types.ts';
