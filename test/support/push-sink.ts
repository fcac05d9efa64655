import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { waitFor } from './redis-server.ts';

/**
 * The sink's self-signed certificate (EC P-256, valid 2000–2099, for 127.0.0.1, localhost,
 * push.example.com and *.push.example.com): Web Push endpoints are https only, so the Web Push
 * tests serve the sink over TLS and hand the channel this certificate to trust.
 */
export const TEST_TLS = {
  cert: readFileSync(new URL('./tls/cert.pem', import.meta.url), 'utf8'),
  key: readFileSync(new URL('./tls/key.pem', import.meta.url), 'utf8'),
};

/** How the sink answers one request (taken from the script in arrival order). */
export type PushBehaviour =
  /** 201 with `{ id }` and a `Location`, like a provider or a Web Push service (after `delayMs`). */
  | { readonly kind: 'accept'; readonly delayMs?: number }
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly body?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** Reads the request and never answers (until the sink closes). */
  | { readonly kind: 'hang' };

/** Shorthands for {@link PushBehaviour}s. */
export const push = {
  accept: { kind: 'accept' } as const satisfies PushBehaviour,
  /** Accepted, but answered and handed on to the device only after `delayMs` (a slow provider). */
  slow: (delayMs: number): PushBehaviour => ({ kind: 'accept', delayMs }),
  status: (status: number, body?: string, headers?: Record<string, string>): PushBehaviour => ({
    kind: 'status',
    status,
    ...(body === undefined ? {} : { body }),
    ...(headers === undefined ? {} : { headers }),
  }),
  hang: { kind: 'hang' } as const satisfies PushBehaviour,
};

/** One request as the sink received it. */
export interface PushRequest {
  readonly method: string;
  readonly path: string;
  /** Node's lower-cased headers. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON when it was sent as `application/json`. */
  readonly json: unknown;
  /** The status the sink answered with, or `hang`. */
  readonly answer: number | 'hang';
}

/**
 * An HTTP push provider on 127.0.0.1: records requests and remembers the `Idempotency-Key` of
 * every push it accepted, so a repeated key answers 409 and does not count as a new delivery.
 */
export interface PushSink {
  /** Where to POST (`/push`). */
  readonly url: string;
  readonly origin: string;
  /** Every request, in arrival order. */
  readonly requests: readonly PushRequest[];
  /** Requests that were accepted as new pushes (a replayed idempotency key is not one). */
  readonly deliveries: readonly PushRequest[];
  /** TCP connections accepted so far (a request refused before it was sent opens none). */
  readonly connections: () => number;
  script(...behaviours: PushBehaviour[]): void;
  setDefault(behaviour: PushBehaviour): void;
  /** Waits until at least `count` requests arrived; polls, no fixed sleeps. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly PushRequest[]>;
  /** Stops listening and drops every connection, hanging ones included. */
  close(): Promise<void>;
}

/** Starts a {@link PushSink} on 127.0.0.1 and a port the OS picks; over TLS with {@link TEST_TLS} when `tls`. */
export async function startPushSink(options: { readonly tls?: boolean } = {}): Promise<PushSink> {
  const requests: PushRequest[] = [];
  const deliveries: PushRequest[] = [];
  const acceptedKeys = new Set<string>();
  const queue: PushBehaviour[] = [];
  let fallback: PushBehaviour = push.accept;
  let origin = '';

  const answer = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  };

  const handler: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isJson = (req.headers['content-type'] ?? '').startsWith('application/json');
      let json: unknown;
      if (isJson) {
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          json = undefined;
        }
      }
      const behaviour = queue.shift() ?? fallback;
      const key = req.headers['idempotency-key'];
      const base = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      if (behaviour.kind === 'hang') {
        requests.push({ ...base, answer: 'hang' });
        return;
      }
      if (behaviour.kind === 'status') {
        requests.push({ ...base, answer: behaviour.status });
        answer(res, behaviour.status, behaviour.body ?? '', { ...behaviour.headers });
        return;
      }
      if (typeof key === 'string' && acceptedKeys.has(key)) {
        requests.push({ ...base, answer: 409 });
        answer(res, 409, JSON.stringify({ error: 'duplicate idempotency key' }));
        return;
      }
      if (typeof key === 'string') acceptedKeys.add(key);
      // A slow provider hands the message on to the device when it answers, so that is when it
      // counts as delivered (and the order of `deliveries` is the order the device saw).
      const accept = () => {
        const request = { ...base, answer: 201 };
        requests.push(request);
        deliveries.push(request);
        const id = `push-${deliveries.length}`;
        answer(res, 201, JSON.stringify({ id }), { Location: `${origin}/messages/${id}` });
      };
      if (behaviour.delayMs === undefined) accept();
      else setTimeout(accept, behaviour.delayMs);
    });
  };
  const server = options.tls === true ? createTlsServer(TEST_TLS, handler) : createServer(handler);
  let connections = 0;
  server.on('connection', () => {
    connections++;
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  origin = `${options.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url: `${origin}/push`,
    origin,
    requests,
    deliveries,
    connections: () => connections,
    script: (...behaviours) => {
      queue.push(...behaviours);
    },
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    waitForRequests: async (count, timeoutMs = 10_000) => {
      await waitFor(() => requests.length >= count, timeoutMs, `${count} push request(s)`);
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
