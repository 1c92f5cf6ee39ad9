/**
 * The figures of one source address (`--local-ips`, target.localIps): what was sent from it.
 * Beside the scenario × account series rather than a dimension of them: a connection's source
 * address outlives iterations and senders, and one lean record per address (a count per outcome
 * and one histogram) keeps a long list of addresses cheap.
 */
import { TrendSink } from './trend.ts';

/** Messages and connections from one source address. */
export class SourceSeries {
  /** Messages attempted from this address (accepted + failed; interrupted ones apart). */
  txns = 0;
  accepted = 0;
  failed = 0;
  interrupted = 0;
  /** TCP connections established from this address. */
  connections = 0;
  /** smtp_txn_duration of its accepted messages, µs. */
  readonly txnDuration = new TrendSink();

  /** Forgets everything (the end of the warm-up). */
  reset(): void {
    this.txns = this.accepted = this.failed = this.interrupted = this.connections = 0;
    this.txnDuration.reset();
  }
}
