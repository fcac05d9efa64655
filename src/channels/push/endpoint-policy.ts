import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress } from './address.ts';

/** One address a host name resolved to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to every address it has (the default is the system resolver). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** Which Web Push endpoints Concord may connect to. */
export interface EndpointPolicy {
  /**
   * `CONCORD_PUSH_HOSTS`: when set, only these hosts and their subdomains; unset, any public
   * https host.
   */
  readonly allowedHosts?: readonly string[] | undefined;
  /**
   * Tests only (production wiring never sets it): loopback addresses and any port are allowed,
   * so a test can stand a push service up on 127.0.0.1. Every other non-public address stays refused.
   */
  readonly allowLoopback?: boolean;
}

/** Why an endpoint is refused before anything is sent (the reasons of `reasons.ts`). */
export type EndpointRefusal = 'webpush_endpoint_refused' | 'webpush_host_not_allowed';

/** An endpoint Concord may connect to: the URL and the one checked address to connect to. */
export interface CheckedEndpoint {
  readonly url: URL;
  readonly hostname: string;
  readonly address: ResolvedAddress;
}

/**
 * Host names that name this machine, its network or its cloud rather than a push service:
 * single-label names (completed by the resolver's search domains to internal hosts), `localhost`,
 * and the special-use and internal suffixes (`.local`, `.internal` — metadata.google.internal —,
 * `.home.arpa`, `.localdomain`).
 */
const INTERNAL_NAME = /(^[^.]+$)|(^|\.)(localhost|local|internal|localdomain|home\.arpa|intranet|lan)$/;

export const systemResolve: Resolve = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

/** The host of a URL without IPv6 brackets or a trailing dot, lower-cased. */
export function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** True when `host` is one of `allowed` or a subdomain of one. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((entry) => host === entry || host.endsWith(`.${entry}`));
}

/**
 * Checks what can be checked without the network: https, no credentials, port 443, a host on
 * the allow-list (when there is one) that is not an internal name. Undefined when it passes.
 */
export function refusalOf(url: URL, policy: EndpointPolicy): EndpointRefusal | undefined {
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '')
    return 'webpush_endpoint_refused';
  const host = hostOf(url);
  if (policy.allowedHosts !== undefined && !hostAllowed(host, policy.allowedHosts)) {
    return 'webpush_host_not_allowed';
  }
  if (policy.allowLoopback === true) return undefined;
  // Push services listen on 443; another port on a public host is a port scan, not a push.
  if (url.port !== '' && url.port !== '443') return 'webpush_endpoint_refused';
  if (isIP(host) === 0 && INTERNAL_NAME.test(host)) return 'webpush_endpoint_refused';
  return undefined;
}

/**
 * Checks an endpoint and resolves its host: refused when any address it resolves to is not
 * public (one bad address is enough — a resolver may hand out either), else the first address,
 * which the request then connects to (pinned, so a second lookup cannot swap it).
 * A lookup that fails throws (the caller treats it as a network error: transient).
 */
export async function checkEndpoint(
  endpoint: string,
  policy: EndpointPolicy,
  resolve: Resolve,
): Promise<CheckedEndpoint | EndpointRefusal> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'webpush_endpoint_refused';
  }
  const refusal = refusalOf(url, policy);
  if (refusal !== undefined) return refusal;
  const hostname = hostOf(url);
  const version = isIP(hostname);
  const addresses: readonly ResolvedAddress[] =
    version === 0 ? await resolve(hostname) : [{ address: hostname, family: version === 6 ? 6 : 4 }];
  const first = addresses[0];
  if (first === undefined) return 'webpush_endpoint_refused';
  const reachable = addresses.every((entry) => {
    const kind = classifyAddress(entry.address);
    return kind === 'public' || (kind === 'loopback' && policy.allowLoopback === true);
  });
  return reachable ? { url, hostname, address: first } : 'webpush_endpoint_refused';
}
