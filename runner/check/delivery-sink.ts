/**
 * `runner check --delivery sink=URL`: whether a runner sink answers at its admin URL and what it
 * holds (GET /__stats: the deliveries and refusals it keeps for /__deliveries, and its counters),
 * so a wrong URL shows before a run rather than as a wait that never ends. A URL that answers but
 * is no sink (the proxy's admin port, say) is told apart from one that does not answer.
 */
import { probeHttp, type CheckStep, type HttpProbe } from './steps.ts';
import type { Problem } from './diagnose.ts';

/** What the sink's /__stats says (the fields this step reads). */
export interface SinkFacts {
  http: HttpProbe;
  /** Deliveries and refusals it holds for /__deliveries; undefined when it is no sink (or an older one: then `delivered`). */
  heldDeliveries: number | undefined;
  heldRefusals: number | undefined;
  /** Counters since its start or last reset. */
  delivered: number | undefined;
  refused: number | undefined;
}

/** Reads the sink's /__stats answer. */
export function readSinkStats(http: HttpProbe): SinkFacts {
  const facts: SinkFacts = { http, heldDeliveries: undefined, heldRefusals: undefined, delivered: undefined, refused: undefined };
  if (http.httpStatus !== 200 || http.body === undefined) return facts;
  try {
    const stats = JSON.parse(http.body) as { held?: { deliveries?: unknown; refusals?: unknown }; delivered?: unknown; refused?: unknown };
    const count = (value: unknown) => (Number.isInteger(value) && (value as number) >= 0 ? (value as number) : undefined);
    facts.delivered = count(stats?.delivered);
    facts.refused = count(stats?.refused);
    facts.heldDeliveries = count(stats?.held?.deliveries);
    facts.heldRefusals = count(stats?.held?.refusals);
  } catch {
    // Not JSON: no sink's answer (the facts say so)
  }
  return facts;
}

/** Whether the answer is a runner sink's /__stats. */
function isSink(facts: SinkFacts): boolean {
  return facts.delivered !== undefined && facts.refused !== undefined;
}

/** The step line and, when something is wrong, the problem with its fix. */
export function describeSinkStep(url: string, facts: SinkFacts): { step: CheckStep; problem?: Problem } {
  const title = 'delivery sink';
  const durationMs = facts.http.durationMs;
  const { http } = facts;
  if (http.httpStatus === undefined) {
    return {
      step: { id: 'delivery', title, status: 'fail', durationMs, detail: `${url}: no answer: ${http.error ?? 'unknown error'}` },
      problem: {
        step: 'delivery',
        side: 'admin',
        message: `The delivery sink at ${url} does not answer (${http.error ?? 'no answer'})`,
        hint: `start it (runner sink --admin-port 9190) and give its admin URL, e.g. --delivery sink=http://127.0.0.1:9190; or let runner run start one: --with-sink`,
      },
    };
  }
  if (!isSink(facts)) {
    const said = http.httpStatus === 200 ? 'answered 200 without the sink\'s counters' : `answered HTTP ${http.httpStatus}`;
    return {
      step: { id: 'delivery', title, status: 'fail', durationMs, detail: `${url}: not a runner sink: GET /__stats ${said}` },
      problem: {
        step: 'delivery',
        side: 'admin',
        message: `${url} answers, but is not a runner sink's admin port (GET /__stats ${said})`,
        hint: 'give the sink\'s --admin-port (runner sink prints "admin on http://…"), not the proxy\'s admin URL or the sink\'s SMTP port',
      },
    };
  }
  const held = facts.heldDeliveries === undefined
    ? `${facts.delivered} deliveries`
    : `holds ${facts.heldDeliveries} ${facts.heldDeliveries === 1 ? 'delivery' : 'deliveries'} and ${facts.heldRefusals ?? 0} refused`;
  return { step: { id: 'delivery', title, status: 'ok', durationMs, detail: `${url} answers: ${held} (since its last reset: ${facts.delivered} delivered, ${facts.refused} refused)` } };
}

/** Probes the sink at `url` (no trailing slash). */
export async function checkDeliverySink(url: string, timeoutMs: number): Promise<{ step: CheckStep; problem?: Problem }> {
  return describeSinkStep(url, readSinkStats(await probeHttp(`${url}/__stats`, timeoutMs)));
}
