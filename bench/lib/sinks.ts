import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';

/** One message a sink accepted: which offer, on which channel, of which kind, when it arrived. */
export interface SinkRecord {
  readonly offerId: string;
  readonly channel: 'email' | 'push';
  readonly kind: 'offer' | 'retract';
  /** Date.now() when the whole message had arrived, before the sink answered. */
  readonly at: number;
}

export interface SinkCounts {
  readonly email: number;
  readonly push: number;
  readonly retract: number;
}

/**
 * The SMTP server and the HTTP push provider every pipeline of the benchmark sends to. Unlike the
 * test sinks they do not parse MIME or keep bodies: they record the offer id (from the
 * `X-Concord-Offer` header or the push JSON) and the arrival time, so their own CPU stays small
 * and the same for Concord and for the raw baseline.
 */
export interface Sinks {
  readonly smtpUrl: string;
  readonly pushUrl: string;
  counts(): SinkCounts;
  records(): readonly SinkRecord[];
  /** Forgets what was received (and the idempotency keys seen). */
  reset(): void;
  /** Delays the answer (not the receipt) of every offer send by `ms`, to keep sends in flight. */
  slow(ms: number): void;
  close(): Promise<void>;
}

const OFFER_HEADER = /^x-concord-offer:[ \t]*(\S+)/im;

export async function startSinks(): Promise<Sinks> {
  let records: SinkRecord[] = [];
  let counts = { email: 0, push: 0, retract: 0 };
  let accepted = new Set<string>();
  let slowMs = 0;
  const later = (action: () => void) => {
    if (slowMs > 0) setTimeout(action, slowMs);
    else action();
  };

  const smtp = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 250,
    size: 1024 * 1024,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        // Only the header block is needed; the rest of the body is read and dropped.
        if (head.length < 16_384) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const end = head.indexOf('\r\n\r\n');
        const offerId = OFFER_HEADER.exec(end === -1 ? head : head.slice(0, end))?.[1] ?? '';
        records.push({ offerId, channel: 'email', kind: 'offer', at: Date.now() });
        counts.email++;
        later(() => {
          callback(null, `Queued as SINK${counts.email}`);
        });
      });
    },
  });
  smtp.on('error', () => undefined);
  const smtpPort = await new Promise<number>((resolve, reject) => {
    smtp.once('error', reject);
    const listener = smtp.listen(0, '127.0.0.1', () => {
      const address = listener.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  const push = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      let body: { offerId?: unknown; kind?: unknown } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        // counted as an offer push without an id
      }
      const key = req.headers['idempotency-key'];
      if (typeof key === 'string' && accepted.has(key)) {
        // A provider stores each idempotency key once: a resend is not a new delivery.
        res.writeHead(409, { 'Content-Type': 'application/json' }).end('{"error":"duplicate"}');
        return;
      }
      if (typeof key === 'string') accepted.add(key);
      const kind = body.kind === 'retract' ? 'retract' : 'offer';
      records.push({ offerId: typeof body.offerId === 'string' ? body.offerId : '', channel: 'push', kind, at });
      if (kind === 'retract') counts.retract++;
      else counts.push++;
      const answer = () => {
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(`{"id":"push-${records.length}"}`);
      };
      if (kind === 'offer') later(answer);
      else answer();
    });
  });
  push.keepAliveTimeout = 30_000;
  const pushPort = await new Promise<number>((resolve, reject) => {
    push.once('error', reject);
    push.listen(0, '127.0.0.1', () => {
      const address = push.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    pushUrl: `http://127.0.0.1:${pushPort}/push`,
    counts: () => ({ ...counts }),
    records: () => records,
    reset: () => {
      records = [];
      counts = { email: 0, push: 0, retract: 0 };
      accepted = new Set();
      slowMs = 0;
    },
    slow: (ms) => {
      slowMs = ms;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        smtp.close(() => {
          resolve();
        });
      });
      push.closeAllConnections();
      await new Promise<void>((resolve) => {
        push.close(() => {
          resolve();
        });
      });
    },
  };
}
