import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { ConcordError, invalidInput } from '../errors.ts';
import { toLedgerError } from './errors.ts';
import { LedgerKeys, type KeyLayout } from './keys.ts';
import {
  SCRIPT_TABLE,
  type ScriptKeys,
  type ScriptName,
  type ScriptReply,
  type ScriptRequest,
} from './script-table.ts';
import { defineScripts, loadScripts, runScript, type LedgerScript } from './scripts.ts';

/** How the runner talks to Redis: the clock skew, the history retention and a timing hook. */
export interface RunnerOptions extends KeyLayout {
  /** Shifts the ledger clock (Redis TIME) by this many milliseconds (simulations and tests). */
  readonly clockSkewMs: number;
  /** Every script trims the history it appends to by this age (ledger clock). */
  readonly historyRetentionMs: number;
  /** Told how long each script took and whether it answered (for latency metrics). */
  readonly onScript: ((script: string, seconds: number, ok: boolean) => void) | undefined;
}

/**
 * Runs the ledger's scripts by name, each with the keys, request and reply of its row in
 * {@link SCRIPT_TABLE}, and reads Redis directly where a plain command is the whole answer.
 * Every Redis failure comes out as a ledger error (`ledger_unavailable` or `internal`).
 */
export class ScriptRunner {
  readonly keys: LedgerKeys;
  private readonly scripts: ReadonlyMap<string, LedgerScript>;

  constructor(
    readonly redis: Redis,
    readonly options: RunnerOptions,
  ) {
    this.keys = new LedgerKeys(options);
    this.scripts = loadScripts();
    defineScripts(redis, this.scripts);
  }

  /** The ledger clock: Redis TIME in epoch milliseconds, shifted by the skew. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.command(() => this.redis.time());
    return toEpochMs(seconds ?? 0, micros ?? 0) + this.options.clockSkewMs;
  }

  /**
   * Runs one script with its JSON request (the skew and retention added) and parses its JSON
   * reply with the table's schema; a malformed reply is a bug and throws `internal`.
   */
  async run<N extends ScriptName>(
    name: N,
    scope: ScriptKeys<N>,
    request: ScriptRequest<N>,
  ): Promise<ScriptReply<N>> {
    const row = SCRIPT_TABLE[name];
    const keys = (row.keys as (keys: LedgerKeys, scope: ScriptKeys<N>) => readonly string[])(
      this.keys,
      scope,
    );
    const raw = await this.call(
      name,
      keys,
      encodeRequest({
        ...(request as Record<string, unknown>),
        skew: this.options.clockSkewMs,
        historyMs: this.options.historyRetentionMs,
      }),
    );
    return parseReply(name, row.reply, typeof raw === 'string' ? JSON.parse(raw) : raw) as ScriptReply<N>;
  }

  /**
   * Runs one script as it is, timed, with Redis failures turned into ledger errors; with
   * `buffers`, bulk strings in the reply come back as Buffers (for stored binary documents).
   */
  async call(
    name: ScriptName,
    keys: readonly string[],
    arg: string | undefined,
    options: { buffers?: boolean } = {},
  ): Promise<unknown> {
    const script = this.scripts.get(name);
    if (!script) throw new ConcordError('internal', `no ledger script ${name}`);
    const started = performance.now();
    try {
      const raw = await runScript(this.redis, script, keys, arg, options);
      this.options.onScript?.(name, (performance.now() - started) / 1000, true);
      return raw;
    } catch (error) {
      this.options.onScript?.(name, (performance.now() - started) / 1000, false);
      throw toLedgerError(error);
    }
  }

  /**
   * One plain Redis command (a read of an index, a stream or a hash, or a consumer group's
   * read), its failure turned into a ledger error. Ledger state is only written by scripts.
   */
  async command<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toLedgerError(error);
    }
  }
}

/** Redis TIME's seconds and microseconds as epoch milliseconds. */
export function toEpochMs(seconds: string | number | Buffer, micros: string | number | Buffer): number {
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** Parses a script's reply; a reply that does not match is a bug (`internal`). */
export function parseReply<S extends z.ZodType>(name: string, schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new ConcordError('internal', `malformed reply from ledger script ${name}`, {
      details: parsed.error.issues,
    });
  }
  return parsed.data;
}

/** Parses what a caller passed; anything else is the caller's mistake (`invalid_input`). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  return parsed.data;
}

/**
 * JSON for a script; text that is not valid Unicode (a lone surrogate) is refused here, since
 * Lua's JSON decoder would fail on it inside the script.
 */
function encodeRequest(request: Record<string, unknown>): string {
  const json = JSON.stringify(request);
  // JSON.stringify writes a lone surrogate as a `\udXXX` escape and nothing else that way, so
  // text without one needs no further look (every ledger call comes through here). A match may
  // also be a literal backslash before "ud800"; the exact check below tells the two apart.
  if (!LONE_SURROGATE_ESCAPE.test(json)) return json;
  return JSON.stringify(request, (_key, value: unknown) => {
    if (typeof value === 'string' && !value.isWellFormed()) {
      throw new ConcordError('invalid_input', 'text must be valid Unicode (a lone surrogate was found)');
    }
    return value;
  });
}

const LONE_SURROGATE_ESCAPE = /\\ud[89a-f][0-9a-f]{2}/;
