import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { apiActor } from '../actors.ts';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { ApiRole } from '../config/env.ts';
import { ConcordError } from '../errors.ts';
import { errorBody } from './errors.ts';

/** A key, the role it grants, and optionally who holds it. */
export interface ApiKey {
  readonly role: ApiRole;
  readonly key: string;
  /** The person or system holding the key; a key without one is its own principal. */
  readonly principal?: string | undefined;
}

/** Who is calling: the role, a stable non-secret name for the key, and its principal if given. */
export interface Caller {
  readonly role: ApiRole;
  readonly keyId: string;
  readonly principal?: string | undefined;
}

/**
 * A key's id: 16 hex digits of an HMAC of the key under a key derived from the server's signing
 * secret. Unlike a bare hash, an id seen in a log or a history cannot be checked against guessed
 * keys by anyone without the secret, and ids of the same key differ between deployments.
 */
export function apiKeyId(signingSecret: string, key: string): string {
  const idKey = createHmac('sha256', signingSecret).update('concord/api-key-ids').digest();
  return createHmac('sha256', idKey).update(key).digest('hex').slice(0, 16);
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent means the route needs no key. */
    roles?: readonly ApiRole[];
    /** `false` exempts a route from the per-address rate limit (health probes). */
    rateLimit?: false;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Most `Authorization` headers that passed the check, remembered by their exact text. Only a
 * header that already matched a key in constant time is added, so an unknown key never grows
 * the map; a valid key has a bounded number of spellings (the scheme's letter case), and the map
 * starts over when it is full anyway.
 */
const REMEMBERED_HEADERS = 256;

/**
 * Checks `Authorization: Bearer <key>` against every configured key in constant time (each key
 * is compared as a SHA-256 digest, so neither its length nor its content leaks through timing).
 * A header that passed is remembered by its exact text, so a client repeating it skips the
 * hashing; a header that did not pass always takes the constant-time path.
 */
export function createAuthenticator(keys: readonly ApiKey[], signingSecret: string) {
  const known = keys.map((entry) => ({
    digest: digest(entry.key),
    caller: Object.freeze({
      role: entry.role,
      keyId: apiKeyId(signingSecret, entry.key),
      ...(entry.principal === undefined ? {} : { principal: entry.principal }),
    }),
  }));
  const remembered = new Map<string, Caller>();
  const compare = (header: string): Caller | undefined => {
    const match = /^bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    if (!match?.[1]) return undefined;
    const given = digest(match[1]);
    let found: Caller | undefined;
    for (const entry of known) {
      // Every key is compared, so the time taken does not say which one matched.
      if (timingSafeEqual(entry.digest, given)) found = entry.caller;
    }
    return found;
  };
  const identify = (header: string | undefined): Caller | undefined => {
    if (header === undefined) return undefined;
    // A hit needs the exact text of a header that already passed: the caller holds a valid key.
    const hit = remembered.get(header);
    if (hit !== undefined) return hit;
    const found = compare(header);
    if (found !== undefined) {
      if (remembered.size >= REMEMBERED_HEADERS) remembered.clear();
      remembered.set(header, found);
    }
    return found;
  };
  const check = (request: FastifyRequest, roles: readonly ApiRole[]): void => {
    const caller = identify(request.headers.authorization);
    if (!caller)
      throw new ConcordError('unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
    if (!roles.includes(caller.role)) {
      throw new ConcordError('forbidden', `this route is for ${roles.join(', ')}; the key is ${caller.role}`);
    }
    request.caller = caller;
  };
  return {
    /** How many header spellings are remembered (bounded; for tests). */
    get remembered(): number {
      return remembered.size;
    },
    /**
     * The onRequest hook: enforces the route's `config.roles`. It is a callback hook rather than
     * an async one so that a request does not wait a microtask turn for it; a refusal thrown here
     * reaches the error handler as a rejection would.
     */
    hook: (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
      const roles = request.routeOptions.config.roles;
      if (roles !== undefined) {
        try {
          check(request, roles);
        } catch (error) {
          done(error as Error);
          return;
        }
      }
      done();
    },
    /**
     * A hook for routes registered by third-party plugins, which cannot carry `config.roles` and
     * may install error handlers of their own: it answers the refusal itself, in our error shape.
     */
    require:
      (roles: readonly ApiRole[]) =>
      async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
        try {
          check(request, roles);
        } catch (error) {
          if (!(error instanceof ConcordError)) throw error;
          await reply.code(error.status).send(errorBody(error.code, error.message));
        }
      },
  };
}

/** The history actor for a request: `api:<role>:<key id>[:<principal>]` (src/actors.ts). */
export function actorOf(request: FastifyRequest): string {
  return request.caller ? apiActor(request.caller) : 'api:anonymous';
}
