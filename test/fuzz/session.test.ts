/**
 * The SMTP session against a fuzzing server (issue 6, "Fuzzing"): for every reply the server owes,
 * fast-check picks the normal reply, random bytes, a random reply line, a reply cut into delayed
 * pieces, a close, a reset, silence, or one of the fault server's faults. Whatever comes, the
 * session must not crash or hang (each sendMessage settles within a bound), must count every
 * message exactly once (accepted or failed, matching what sendMessage returned), and must leave no
 * socket or deadline behind. Seeded: FUZZ_SEED=<n> replays a failure (the seed is printed with it).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { FAULT_KINDS, startFaultServer, type FaultAnswer, type FaultPhase } from '../../fixtures/fault-server.ts';
import { SmtpStepError, type Failure } from '../../runner/smtp/api.ts';
import { PHASES, type Phase } from '../../runner/smtp/phases.ts';
import type { ResolvedSmtp } from '../../runner/scenario/resolved.ts';
import { INTERRUPTED_ERROR, SmtpSession, type SessionRecorder } from '../../runner/smtp/session.ts';
import { DEADLINE_RESOLUTION_MS, watchedDeadlineCount } from '../../runner/smtp/deadlines.ts';
import { hasControl } from '../../runner/util/escape.ts';
import { MAX_CAPABILITIES } from '../../runner/smtp/capabilities.ts';

const SEED = Number(process.env['FUZZ_SEED'] ?? 6_2024);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
/** Each property stops starting runs after this long (a very busy machine), ms; a run that hangs is caught by SETTLE_BOUND_MS. */
const BUDGET_MS = Number(process.env['FUZZ_BUDGET_MS'] ?? 90_000);

/** Reply timeout of every phase, ms: short, so silent answers cost little. */
const TIMEOUT_MS = 80;
/**
 * Longest a sendMessage may take, ms: each of its up to 10 replies may arrive just before its
 * timeout (a timeout ends the message, bar the QUIT after a kept failure), plus the ticker's
 * resolution and generous slack for a loaded machine.
 */
const SETTLE_BOUND_MS = 10 * (TIMEOUT_MS + DEADLINE_RESOLUTION_MS) + 2000;

// ---------------------------------------------------------------------------------------------
// What the server answers

const randomBytes = fc.uint8Array({ maxLength: 48 });

/** A reply line with a code from anywhere (right, wrong, odd), optionally multi-line, optionally without its CRLF. */
const replyLine = fc
  .record({
    code: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(220, 221, 235, 250, 251, 334, 354, 421, 451, 454, 500, 535, 554) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) },
    ),
    isMultiline: fc.boolean(),
    text: fc.string({ maxLength: 30 }),
    isEnded: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  })
  .map(({ code, isMultiline, text, isEnded }) => {
    const digits = String(code).padStart(3, '0');
    return Buffer.from(`${isMultiline ? `${digits}-first\r\n` : ''}${digits} ${text}${isEnded ? '\r\n' : ''}`, 'utf8');
  });

/** Bytes cut into 1-4 pieces. */
function piecesOf(bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array[]> {
  return fc.tuple(bytes, fc.array(fc.nat(), { maxLength: 3 })).map(([all, cuts]) => {
    const points = [...new Set(cuts.map((cut) => (all.length === 0 ? 0 : cut % all.length)))].sort((a, b) => a - b);
    const pieces: Uint8Array[] = [];
    let start = 0;
    for (const point of points) {
      pieces.push(all.subarray(start, point));
      start = point;
    }
    pieces.push(all.subarray(start));
    return pieces;
  });
}

const raw = (pieces: fc.Arbitrary<Uint8Array[]>): fc.Arbitrary<FaultAnswer> =>
  fc.record({
    kind: fc.constant('raw' as const),
    pieces,
    pieceDelayMs: fc.integer({ min: 0, max: 3 }),
    then: fc.oneof({ weight: 6, arbitrary: fc.constant('continue' as const) }, { weight: 1, arbitrary: fc.constantFrom('close' as const, 'reset' as const) }),
  });

/** The fault server's faults that cost no timeout (silence and slow are rarer, below). */
const QUICK_KINDS = FAULT_KINDS.filter((kind) => kind !== 'silence' && kind !== 'slow');

/** One answer; undefined = the normal reply. */
const answer: fc.Arbitrary<FaultAnswer | undefined> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: raw(piecesOf(replyLine)) },
  // Several replies for one command: the extra ones arrive while another reply, or none, is awaited
  { weight: 1, arbitrary: raw(piecesOf(fc.array(replyLine, { minLength: 2, maxLength: 3 }).map((lines) => Buffer.concat(lines)))) },
  { weight: 2, arbitrary: raw(piecesOf(fc.tuple(randomBytes, fc.boolean()).map(([bytes, isEnded]) => (isEnded ? Buffer.concat([bytes, Buffer.from('\r\n')]) : Buffer.from(bytes))))) },
  { weight: 3, arbitrary: fc.constantFrom(...QUICK_KINDS).map((kind): FaultAnswer => ({ kind })) },
  { weight: 1, arbitrary: fc.constantFrom('silence' as const, 'slow' as const).map((kind): FaultAnswer => ({ kind })) },
);

/** A case: the server's answers in order (then normal replies), and what the client sends. */
const plan = fc.record({
  answers: fc.array(answer, { maxLength: 30 }),
  messages: fc.integer({ min: 1, max: 4 }),
  messagesPerConnection: fc.integer({ min: 1, max: 3 }),
  recipients: fc.integer({ min: 1, max: 2 }),
  isAuth: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------
// The client side

/** Counts what the session reports. */
class CountingRecorder implements SessionRecorder {
  acceptedCount = 0;
  failures: Failure[] = [];
  interruptedCount = 0;
  opened = 0;
  closed = 0;
  badDurations: string[] = [];

  connectionOpened(): void {
    this.opened++;
  }
  phase(phaseIndex: number, durationUs: number): void {
    if (!Number.isInteger(durationUs) || durationUs < 0 || PHASES[phaseIndex] === undefined) this.badDurations.push(`${phaseIndex}:${durationUs}`);
  }
  accepted(txnUs: number): void {
    if (!Number.isInteger(txnUs) || txnUs < 0) this.badDurations.push(`txn:${txnUs}`);
    this.acceptedCount++;
  }
  failed(failure: Failure): void {
    if (failure.error === INTERRUPTED_ERROR) this.interruptedCount++;
    else this.failures.push(failure);
  }
  afterAcceptError(): void {}
  connectionClosed(): void {
    this.closed++;
  }
}

function smtpOptions(messagesPerConnection: number, recipients: number, isAuth: boolean): ResolvedSmtp {
  return {
    from: 'fuzz@example.com',
    to: ['a@example.com', 'b@example.com'].slice(0, recipients),
    auth: isAuth ? 'plain' : 'none',
    password: 'placeholder',
    ehloName: 'fuzz.localhost',
    messageSize: 300,
    messagesPerConnection,
    timeoutsMs: Object.fromEntries(PHASES.map((phase) => [phase, TIMEOUT_MS])) as Record<Phase, number>,
  };
}

/** Resolves with the promise's value, or with 'hang' when it has not settled within boundMs. */
async function settleWithin<T>(promise: Promise<T>, boundMs: number): Promise<T | 'hang'> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), boundMs);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

const session = suite('fuzz: session against a server that sends anything');

session('no crash, no hang, every message counted exactly once, nothing left open', async () => {
  let failure: unknown;
  try {
    await fc.assert(
      fc.asyncProperty(plan, async (plan) => {
        let next = 0;
        let rawGiven = 0;
        const server = await startFaultServer({
          idleTimeoutMs: 2000,
          decide: (_phase: FaultPhase) => {
            const given = next < plan.answers.length ? plan.answers[next] : undefined;
            next++;
            if (given?.kind === 'raw') rawGiven++;
            return given;
          },
        });
        const recorder = new CountingRecorder();
        const client = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions(plan.messagesPerConnection, plan.recipients, plan.isAuth), recorder);
        try {
          for (let i = 0; i < plan.messages; i++) {
            const acceptedBefore = recorder.acceptedCount;
            const failedBefore = recorder.failures.length;
            const result = await settleWithin(client.sendMessage(), SETTLE_BOUND_MS);
            assert.ok(result !== 'hang', `message ${i + 1} did not settle within ${SETTLE_BOUND_MS} ms`);
            if (result === undefined) {
              assert.is(recorder.acceptedCount - acceptedBefore, 1, `message ${i + 1}: accepted but not counted once`);
              assert.is(recorder.failures.length, failedBefore, `message ${i + 1}: accepted and also failed`);
            } else {
              assert.is(recorder.failures.length - failedBefore, 1, `message ${i + 1}: failed but not counted once`);
              assert.is(recorder.acceptedCount, acceptedBefore, `message ${i + 1}: failed and also accepted`);
              assert.equal(recorder.failures.at(-1), result);
              assert.ok((PHASES as readonly string[]).includes(result.phase), `phase ${result.phase}`);
              assert.ok((result.code === undefined) !== (result.error === undefined), `code xor error: ${JSON.stringify(result)}`);
              // Issue 19: a failure's text is printed as is (console, check, reports): no terminal control in it
              assert.not.ok(hasControl(result.text ?? ''), `control character in ${JSON.stringify(result.text)}`);
            }
          }
          // Let anything late arrive: a count after the message settled would be a double count
          await new Promise((resolve) => setTimeout(resolve, 5));
          assert.is(recorder.acceptedCount + recorder.failures.length, plan.messages, 'messages counted');
          assert.is(recorder.interruptedCount, 0);
          assert.equal(recorder.badDurations, []);
          assert.ok(client.capabilities.size <= MAX_CAPABILITIES, 'capabilities bounded');
          // The client cannot accept more than the server accepted, bar raw answers that looked like a 250
          assert.ok(recorder.acceptedCount <= server.stats.messagesAccepted + rawGiven, `client ${recorder.acceptedCount}, server ${server.stats.messagesAccepted}`);
        } finally {
          client.close();
          await server.close();
        }
        assert.is(recorder.opened, recorder.closed, 'connections opened = closed');
        assert.is(watchedDeadlineCount(), 0, 'a deadline left watched');
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
    );
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) throw new Error(`property failed (replay with FUZZ_SEED=${SEED}):\n${(failure as Error).message}`);
});

/** The ctx.smtp steps a custom iteration may call, in any order (misuse included). */
const STEPS = ['connect', 'ehlo', 'auth', 'mail', 'rcpt', 'data', 'rset', 'quit', 'send'] as const;
type StepName = (typeof STEPS)[number];

function callStep(client: SmtpSession, step: StepName): Promise<unknown> {
  switch (step) {
    case 'connect': return client.connect();
    case 'ehlo': return client.ehlo();
    case 'auth': return client.auth();
    case 'mail': return client.mail();
    case 'rcpt': return client.rcpt();
    case 'data': return client.data();
    case 'rset': return client.rset();
    case 'quit': return client.quit();
    case 'send': return client.send();
  }
}

session('ctx.smtp steps in any order: each settles, a rejection is an SmtpStepError counted once, only an accepted data() or send() counts a success', async () => {
  const stepsPlan = fc.record({
    answers: fc.array(answer, { maxLength: 20 }),
    steps: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...STEPS) }, { weight: 2, arbitrary: fc.constant('connect' as const) }), { minLength: 1, maxLength: 12 }),
  });
  let failure: unknown;
  try {
    await fc.assert(
      fc.asyncProperty(stepsPlan, async (plan) => {
        let next = 0;
        const server = await startFaultServer({ idleTimeoutMs: 2000, decide: () => plan.answers[next++] });
        const recorder = new CountingRecorder();
        const client = new SmtpSession({ host: '127.0.0.1', port: server.port }, smtpOptions(1, 1, true), recorder);
        try {
          for (const [index, step] of plan.steps.entries()) {
            const acceptedBefore = recorder.acceptedCount;
            const failedBefore = recorder.failures.length;
            const outcome = await settleWithin(
              callStep(client, step).then(() => 'resolved' as const, (error: unknown) => error),
              SETTLE_BOUND_MS,
            );
            const where = `step ${index + 1} (${step})`;
            assert.ok(outcome !== 'hang', `${where} did not settle within ${SETTLE_BOUND_MS} ms`);
            const accepted = recorder.acceptedCount - acceptedBefore;
            const failed = recorder.failures.length - failedBefore;
            if (outcome === 'resolved') {
              assert.is(failed, 0, `${where} resolved but a failure was counted`);
              assert.is(accepted, step === 'data' || step === 'send' ? 1 : 0, `${where} resolved: accepted ${accepted}`);
            } else {
              assert.instance(outcome, SmtpStepError, `${where} rejected with ${String(outcome)}`);
              assert.is(accepted, 0, `${where} rejected but a success was counted`);
              // QUIT ends no transaction of its own: its failure counts only against one in progress
              if (step === 'quit') assert.ok(failed <= 1);
              else assert.is(failed, 1, `${where} rejected: counted ${failed} times`);
              if (failed === 1) assert.equal(recorder.failures.at(-1), (outcome as SmtpStepError).failure);
            }
          }
        } finally {
          client.close();
          await server.close();
        }
        assert.is(recorder.opened, recorder.closed, 'connections opened = closed');
        assert.is(watchedDeadlineCount(), 0, 'a deadline left watched');
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 2), interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
    );
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) throw new Error(`property failed (replay with FUZZ_SEED=${SEED}):\n${(failure as Error).message}`);
});

session.run();
