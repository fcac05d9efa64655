import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { CheckedEndpoint } from './endpoint-policy.ts';

/** One POST to a checked endpoint. */
export interface PinnedRequest {
  readonly endpoint: CheckedEndpoint;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | null;
  /** The most the TCP connection and the TLS handshake may take together. */
  readonly connectTimeoutMs: number;
  /** The most the whole exchange may take, up to the answer's status line and headers. */
  readonly timeoutMs: number;
  /** A certificate to trust besides the system's roots (tests' self-signed push service). */
  readonly extraCa?: string | undefined;
}

/** What Concord keeps of an answer: its status and the two headers it acts on; never the body. */
export interface PinnedResponse {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly location: string | null;
}

/** Thrown when a deadline passes; named like `AbortSignal.timeout`'s error, so callers treat both alike. */
export class RequestTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * POSTs over https to the endpoint's already checked address: the connection's lookup answers
 * with that address only, so a resolver that changes its answer between the check and the
 * connection (DNS rebinding) cannot move the request elsewhere. SNI, the certificate check and
 * the Host header still use the host name. Redirects are not followed, the answer's body is
 * never read, and the socket is dropped once the status line and headers are in.
 */
export function pinnedRequest(options: PinnedRequest): Promise<PinnedResponse> {
  const { endpoint } = options;
  const pinned = endpoint.address;
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all === true) {
      (callback as (error: null, addresses: { address: string; family: number }[]) => void)(null, [
        { address: pinned.address, family: pinned.family },
      ]);
    } else {
      callback(null, pinned.address, pinned.family);
    }
  };
  const body = options.body ?? Buffer.alloc(0);
  return new Promise<PinnedResponse>((resolve, reject) => {
    let settled = false;
    // Armed below, once the request exists; only fire after this function has returned.
    const timers: { connect?: NodeJS.Timeout; total?: NodeJS.Timeout } = {};
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timers.connect);
      clearTimeout(timers.total);
      outcome();
    };
    const request = httpsRequest({
      method: 'POST',
      host: endpoint.hostname,
      port: endpoint.url.port === '' ? 443 : Number(endpoint.url.port),
      path: `${endpoint.url.pathname}${endpoint.url.search}`,
      headers: { ...options.headers, 'Content-Length': String(body.length) },
      lookup,
      // SNI takes host names only; an IP-literal endpoint is checked against the certificate's IP SANs.
      ...(isIP(endpoint.hostname) === 0 ? { servername: endpoint.hostname } : {}),
      ...(options.extraCa === undefined ? {} : { ca: [...rootCertificates, options.extraCa] }),
      // A fresh socket per push: no pooled connection was checked for this endpoint.
      agent: false,
    });
    const fail = (message: string) => {
      const error = new RequestTimeoutError(message);
      finish(() => {
        reject(error);
      });
      request.destroy(error);
    };
    timers.connect = setTimeout(() => {
      fail('push service did not connect in time');
    }, options.connectTimeoutMs);
    timers.total = setTimeout(() => {
      fail('push service did not answer in time');
    }, options.timeoutMs);
    request.once('socket', (socket) => {
      socket.once('secureConnect', () => {
        clearTimeout(timers.connect);
      });
    });
    request.once('response', (response) => {
      const header = (name: string) => {
        const value = response.headers[name];
        return typeof value === 'string' ? value : null;
      };
      const answer: PinnedResponse = {
        status: response.statusCode ?? 0,
        retryAfter: header('retry-after'),
        location: header('location'),
      };
      finish(() => {
        resolve(answer);
      });
      response.destroy();
      request.destroy();
    });
    // `on`, not `once`: a socket torn down after the answer may still report an error, harmlessly.
    request.on('error', (error) => {
      finish(() => {
        reject(error);
      });
    });
    request.end(body);
  });
}
