import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { TRANSITION_KEYS } from './keys.ts';
import { isScriptName, SCRIPT_TABLE, type ScriptName } from './script-table.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);
const SCRIPT_FILE = /^([a-z][A-Za-z]+)-(\d+)\.lua$/;
const INCLUDE_LINE = /^--@include ([a-z]+)\s*$/gm;
const TRANSITION_KEYS_LINE = /^--@transitionKeys ([A-Za-z_]+)\s*$/gm;

/** `local <name> = { offers = KEYS[1], live = KEYS[2], … }`, from the one list of transition keys. */
function transitionKeyTable(name: string): string {
  const fields = TRANSITION_KEYS.map((key, index) => `${key} = KEYS[${index + 1}]`).join(', ');
  return `local ${name} = { ${fields} }`;
}

/** One ledger script: its source with includes resolved, its key count and its registered name. */
export interface LedgerScript {
  readonly name: ScriptName;
  readonly numberOfKeys: number;
  readonly command: string;
  readonly lua: string;
  readonly readOnly: boolean;
}

const READ_ONLY: ReadonlySet<ScriptName> = new Set(['readLiveDocument', 'readOffers']);

function resolveIncludes(source: string, file: string, seen: Set<string> = new Set()): string {
  return source
    .replace(INCLUDE_LINE, (_line, include: string) => {
      if (seen.has(include)) return '';
      seen.add(include);
      const text = readFileSync(new URL(`includes/${include}.lua`, LUA_DIR), 'utf8');
      return resolveIncludes(text, file, seen);
    })
    .replace(TRANSITION_KEYS_LINE, (_line, name: string) => transitionKeyTable(name));
}

/**
 * Reads every `lua/<verbNoun>-<numKeys>.lua`, resolves its `--@include` lines and names it
 * after its content, so two deployments running different script versions never share a name.
 * A file without a row in the script table, or a row without a file, is refused.
 */
export function loadScripts(): ReadonlyMap<string, LedgerScript> {
  loaded ??= readScripts();
  return loaded;
}

let loaded: ReadonlyMap<string, LedgerScript> | undefined;

function readScripts(): ReadonlyMap<string, LedgerScript> {
  const scripts = new Map<string, LedgerScript>();
  for (const file of readdirSync(LUA_DIR).sort()) {
    const match = SCRIPT_FILE.exec(file);
    if (!match?.[1] || !match[2]) continue;
    if (!isScriptName(match[1])) throw new Error(`ledger script ${file} has no row in the script table`);
    const lua = resolveIncludes(readFileSync(new URL(file, LUA_DIR), 'utf8'), file);
    const version = createHash('sha1').update(lua).digest('hex').slice(0, 8);
    scripts.set(match[1], {
      name: match[1],
      numberOfKeys: Number(match[2]),
      command: `concord_${match[1]}_${version}`,
      lua,
      readOnly: READ_ONLY.has(match[1]),
    });
  }
  const missing = Object.keys(SCRIPT_TABLE).filter((name) => !scripts.has(name));
  if (missing.length > 0) throw new Error(`no Lua file for ledger scripts ${missing.join(', ')}`);
  return scripts;
}

type ScriptCommand = (...args: string[]) => Promise<unknown>;

/** Registers every script on a client with `defineCommand` (idempotent per client). */
export function defineScripts(redis: Redis, scripts: ReadonlyMap<string, LedgerScript>): void {
  const commands = redis as unknown as Record<string, ScriptCommand | undefined>;
  for (const script of scripts.values()) {
    if (commands[script.command]) continue;
    redis.defineCommand(script.command, {
      numberOfKeys: script.numberOfKeys,
      lua: script.lua,
      readOnly: script.readOnly,
    });
  }
}

/**
 * Runs a registered script; the caller passes exactly `numberOfKeys` keys and at most one
 * argument. With `buffers`, bulk strings in the reply come back as Buffers (for stored binary
 * documents) instead of text.
 */
export function runScript(
  redis: Redis,
  script: LedgerScript,
  keys: readonly string[],
  arg: string | undefined,
  options: { buffers?: boolean } = {},
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  const name = options.buffers === true ? `${script.command}Buffer` : script.command;
  const command = (redis as unknown as Record<string, ScriptCommand | undefined>)[name];
  if (!command) throw new Error(`script ${script.name} is not defined on this client`);
  return arg === undefined ? command.call(redis, ...keys) : command.call(redis, ...keys, arg);
}
