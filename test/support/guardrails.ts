import { GUARDRAILS_OFF, type GuardrailRules } from '../../src/config/guardrails.ts';
import type { HistoryEntry, Ledger, LedgerLimits, ProfilePatch } from '../../src/ledger/index.ts';
import type { ApiContext } from './api-context.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Ledger bounds with every guardrail off but the rules given, so a test sees the rule under test
 * alone (and a scenario for one rule cannot pass or fail because of another).
 */
export function guardrailLimits(rules: Partial<GuardrailRules>): Partial<LedgerLimits> {
  return { guardrails: { ...GUARDRAILS_OFF, ...rules } };
}

const clocks = new Map<string, Intl.DateTimeFormat>();

/** The local minute of the day (0–1439) at `at` in `timeZone`, as the runtime's zone data says. */
export function localMinute(timeZone: string, at: number): number {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    clocks.set(timeZone, clock);
  }
  const parts = clock.formatToParts(at);
  const part = (type: 'hour' | 'minute') => Number(parts.find((p) => p.type === type)?.value);
  return part('hour') * 60 + part('minute');
}

/**
 * A real IANA zone whose local hour at `at` is `hour` (the first in the runtime's sorted list).
 * The zones in use span UTC−11 to UTC+14, so every hour of the day is local somewhere.
 */
export function zoneAtLocalHour(hour: number, at: number): string {
  const zone = Intl.supportedValuesOf('timeZone').find(
    (name) => Math.floor(localMinute(name, at) / 60) === hour,
  );
  if (zone === undefined)
    throw new Error(`no time zone has local hour ${hour} at ${new Date(at).toISOString()}`);
  return zone;
}

/** A customer who may be sent everything: addresses and consent on every channel. */
export async function reachableCustomer(
  ledger: Ledger,
  customerId: string,
  patch: ProfilePatch = {},
): Promise<void> {
  await ledger.customers.upsertProfile(
    customerId,
    {
      email: `${customerId}@example.com`,
      pushEndpoint: `device-${customerId}`,
      consent: { email: true, push: true, web: true },
      ...patch,
    },
    { actor: 'test', source: 'fixture' },
  );
}

/** The customer's history entries with this action, oldest first. */
export async function historyOf(ledger: Ledger, customerId: string, action: string): Promise<HistoryEntry[]> {
  return (await ledger.customers.history(customerId)).filter((entry) => entry.action === action);
}

/** An ISO instant, as the HTTP API takes times. */
export function iso(at: number): string {
  return new Date(at).toISOString();
}

/** The customer's timeline as support reads it (`GET /v1/customers/:id/history`), one text per line. */
export async function timelineOf(ctx: ApiContext, customerId: string): Promise<string[]> {
  const reply = await ctx.api.inject({
    method: 'GET',
    url: `/v1/customers/${customerId}/history?limit=500`,
    headers: ctx.auth('support'),
  });
  return reply.json<{ timeline: { text: string }[] }>().timeline.map((line) => line.text);
}
