import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics of one process (API, workers, or both), exposed at `/metrics`. */
export interface Metrics {
  readonly registry: Registry;
  readonly deliveries: Counter<'channel' | 'state' | 'reason'>;
  readonly claims: Counter<'channel' | 'answer'>;
  readonly holds: Counter<'channel' | 'reason'>;
  readonly offersRefused: Counter<'reason'>;
  readonly ledgerScripts: Histogram<'script' | 'outcome'>;
  readonly http: Histogram<'method' | 'route' | 'status'>;
  readonly queueDepth: Gauge<'queue' | 'state'>;
}

/**
 * A free reason (a failure's, which may carry provider text) cut to its leading word, to bound
 * cardinality. Closed codes (a skip's, a hold's) need no cutting and are labels as they are.
 */
export function reasonLabel(reason: string | undefined): string {
  return (reason ?? '').split(/[:\s]/)[0]?.slice(0, 40) ?? '';
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    deliveries: new Counter({
      name: 'concord_deliveries_total',
      help: 'Delivery attempts by channel and the state they ended in',
      labelNames: ['channel', 'state', 'reason'],
      registers: [registry],
    }),
    claims: new Counter({
      name: 'concord_claims_total',
      help: 'Ledger claims by answer (go, skip, hold)',
      labelNames: ['channel', 'answer'],
      registers: [registry],
    }),
    holds: new Counter({
      name: 'concord_holds_total',
      help: 'Deliveries held back, by reason',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    offersRefused: new Counter({
      name: 'concord_offers_refused_total',
      help: 'Offers a guardrail refused to issue, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    ledgerScripts: new Histogram({
      name: 'concord_ledger_script_seconds',
      help: 'Latency of ledger scripts',
      labelNames: ['script', 'outcome'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    http: new Histogram({
      name: 'concord_http_request_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'concord_queue_jobs',
      help: 'Jobs per queue and state, read at scrape time',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
  };
}
