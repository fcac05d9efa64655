import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConcordError } from '../../../src/errors.ts';
import type { Ledger, OfferRecord } from '../../../src/ledger/index.ts';
import { ledgerContext } from '../../support/ledger-context.ts';
import { LedgerModel, type ModelChannel, type ModelPolicy } from '../../support/ledger-model.ts';

interface DeliveryFields {
  state: string;
  reason?: string | undefined;
  attempts: number;
  retraction?: string | undefined;
}

const MINUTE = 60_000;
const LEASE_MS = 2 * MINUTE;
const CUSTOMERS = ['c-a', 'c-b'] as const;
const RUNS = Number(process.env['LEDGER_MODEL_RUNS'] ?? 500);

type Op =
  | {
      op: 'issue';
      customer: 0 | 1;
      slot: 'promo' | 'cart';
      priority: number;
      policy: ModelPolicy;
      startMin: number;
      durationMin: number;
      sku: 'S1' | undefined;
      discount: 10 | 20;
      channels: ModelChannel[];
    }
  | { op: 'cancel' | 'redeem' | 'settle'; pick: number }
  | { op: 'claim'; pick: number; channel: 'email' | 'push'; resend: boolean }
  | { op: 'confirm'; pick: number; outcome: 'sent' | 'failed' | 'retry' | 'unknown' }
  | { op: 'expireLease'; pick: number; channel: 'email' | 'push' }
  | { op: 'advance'; minutes: number }
  | { op: 'read'; customer: 0 | 1; slot: 'promo' | 'cart' };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('issue' as const),
      customer: fc.constantFrom(0 as const, 1 as const),
      slot: fc.constantFrom('promo' as const, 'cart' as const),
      priority: fc.integer({ min: 0, max: 3 }),
      policy: fc.constantFrom<ModelPolicy>('replace', 'reject', 'queue'),
      startMin: fc.constantFrom(0, 0, 5, 15),
      durationMin: fc.constantFrom(5, 20, 60),
      sku: fc.constantFrom('S1' as const, undefined),
      discount: fc.constantFrom(10 as const, 20 as const),
      channels: fc.subarray<ModelChannel>(['email', 'push', 'web'], { minLength: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constantFrom('cancel' as const, 'redeem' as const, 'settle' as const),
      pick: fc.nat(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('claim' as const),
      pick: fc.nat(),
      channel: fc.constantFrom('email' as const, 'push' as const),
      resend: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('confirm' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom(
        'sent' as const,
        'sent' as const,
        'failed' as const,
        'retry' as const,
        'unknown' as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('expireLease' as const),
      pick: fc.nat(),
      channel: fc.constantFrom('email' as const, 'push' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 20 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      customer: fc.constantFrom(0 as const, 1 as const),
      slot: fc.constantFrom('promo' as const, 'cart' as const),
    }),
  },
);

interface Handle {
  offerId: string;
  channel: 'email' | 'push';
  token: number;
  claimId: string;
}

function ledgerNowOf(error: ConcordError): number {
  const details = error.details as { ledgerNow?: number } | undefined;
  if (details?.ledgerNow === undefined) throw new Error(`error without ledger time: ${error.message}`);
  return details.ledgerNow;
}

/** Runs one sequence against a fresh ledger and the model, checking the invariants after every step. */
async function runSequence(ops: Op[]): Promise<void> {
  const ctx = ledgerContext();
  const ledgers = new Map<number, Ledger>();
  let skew = 0;
  const at = (): Ledger => {
    let ledger = ledgers.get(skew);
    if (!ledger) {
      ledger = ctx.ledger.withClockSkew(skew);
      ledgers.set(skew, ledger);
    }
    return ledger;
  };
  const model = new LedgerModel({
    'c-a': { consent: { email: true, push: true, web: true }, address: { email: true, push: true } },
    'c-b': { consent: { email: true, push: false, web: false }, address: { email: true, push: false } },
  });
  const handles: Handle[] = [];
  // Invariant 4: sends that may have reached the customer, per (offer, channel).
  const possibleSends = new Map<string, number>();
  const pushVersions = new Map<string, Set<number>>();
  let claims = 0;
  let lastNow = await ctx.ledger.now();

  try {
    await ctx.ledger.customers.upsertProfile(
      'c-a',
      {
        email: 'a@example.com',
        pushEndpoint: 'https://push.example/a',
        consent: { email: true, push: true, web: true },
      },
      { actor: 'test', source: 'model' },
    );
    await ctx.ledger.customers.upsertProfile(
      'c-b',
      { email: 'b@example.com', consent: { email: true, push: false, web: false } },
      { actor: 'test', source: 'model' },
    );

    const offerIds = () => [...model.offers.keys()];
    const pickOffer = (pick: number) => {
      const ids = offerIds();
      return ids.length === 0 ? undefined : ids[pick % ids.length];
    };

    for (const [step, op] of ops.entries()) {
      const where = `step ${step}: ${JSON.stringify(op)}`;
      switch (op.op) {
        case 'issue': {
          const customerId = CUSTOMERS[op.customer];
          const validFrom = op.startMin > 0 ? lastNow + op.startMin * MINUTE : undefined;
          const validUntil = (validFrom ?? lastNow) + op.durationMin * MINUTE;
          const input = {
            customerId,
            slot: op.slot,
            title: 'model offer',
            discount: { kind: 'percent' as const, value: op.discount },
            channels: op.channels,
            priority: op.priority,
            policy: op.policy,
            validUntil,
            ...(validFrom === undefined ? {} : { validFrom }),
            ...(op.sku === undefined ? {} : { sku: op.sku }),
          };
          let result: Awaited<ReturnType<Ledger['offers']['issue']>> | undefined;
          let error: ConcordError | undefined;
          try {
            result = await at().offers.issue(input, 'model');
          } catch (caught) {
            if (!(caught instanceof ConcordError)) throw caught;
            error = caught;
          }
          const now = result?.now ?? ledgerNowOf(error!);
          const offerId = result?.offer.offerId ?? `unissued-${step}`;
          const expected = model.issue(
            {
              offerId,
              customerId,
              slot: op.slot,
              priority: op.priority,
              policy: op.policy,
              validFrom,
              validUntil,
              sku: op.sku,
              discount: op.discount,
              channels: op.channels,
            },
            now,
          );
          if (expected === 'invalid') expect(error?.code, where).toBe('invalid_input');
          else if ('rejected' in expected) {
            expect(error?.code, where).toBe('conflict');
            expect((error?.details as { conflicting: string[] }).conflicting.sort(), where).toEqual(
              expected.rejected.sort(),
            );
          } else expect(error, where).toBeUndefined();
          lastNow = now;
          break;
        }
        case 'cancel':
        case 'redeem': {
          const offerId = pickOffer(op.pick);
          if (!offerId) break;
          const call =
            op.op === 'cancel'
              ? at().offers.cancel(offerId, { reason: 'model', actor: 'model' })
              : at().offers.redeem(offerId, { actor: 'model' });
          let now: number;
          let outcome: 'ended' | 'unchanged' | 'conflict';
          try {
            const result = await call;
            now = result.now;
            outcome = result.changed ? 'ended' : 'unchanged';
          } catch (caught) {
            if (!(caught instanceof ConcordError) || caught.code !== 'conflict') throw caught;
            now = ledgerNowOf(caught);
            outcome = 'conflict';
          }
          expect(outcome, where).toBe(
            model.endOnRequest(offerId, op.op === 'cancel' ? 'cancelled' : 'redeemed', now),
          );
          lastNow = now;
          break;
        }
        case 'settle': {
          const offerId = pickOffer(op.pick);
          if (!offerId) break;
          const result = await at().offers.activate(offerId);
          model.settle(model.offers.get(offerId)!.customerId, result.now);
          lastNow = result.now;
          break;
        }
        case 'claim': {
          const offerId = pickOffer(op.pick);
          if (!offerId) break;
          const previous = handles.filter((h) => h.offerId === offerId && h.channel === op.channel).at(-1);
          const claimId = op.resend && previous ? previous.claimId : `claim-${claims++}`;
          const answer = await at().deliveries.claim({
            offerId,
            channel: op.channel,
            leaseMs: LEASE_MS,
            claimId,
          });
          const expected = model.claim(offerId, op.channel, claimId, LEASE_MS, answer.now);
          expect(answer.answer, where).toBe(expected.answer);
          if (answer.answer === 'go' && expected.answer === 'go') {
            expect(answer.token, where).toBe(expected.token);
            // Invariant 3: a GO only for an offer that is active and valid at the ledger clock.
            expect(answer.offer.state, where).toBe('active');
            expect(answer.offer.validFrom, where).toBeLessThanOrEqual(answer.now);
            expect(answer.offer.validUntil, where).toBeGreaterThan(answer.now);
            const isNewLease = !handles.some(
              (h) => h.offerId === offerId && h.channel === op.channel && h.token === answer.token,
            );
            if (isNewLease) {
              handles.push({ offerId, channel: op.channel, token: answer.token, claimId });
              const key = `${offerId}:${op.channel}`;
              possibleSends.set(key, (possibleSends.get(key) ?? 0) + 1);
              if (op.channel === 'push') {
                const versions = pushVersions.get(key) ?? new Set<number>();
                versions.add(answer.offer.version);
                pushVersions.set(key, versions);
              }
            }
          } else if (answer.answer !== 'go' && expected.answer !== 'go') {
            expect(answer.reason, where).toBe(expected.reason);
          }
          lastNow = answer.now;
          break;
        }
        case 'confirm': {
          if (handles.length === 0) break;
          const handle = handles[op.pick % handles.length]!;
          const reasons = {
            failed: 'provider_refused',
            retry: 'transient',
            unknown: 'outcome_unknown',
          } as const;
          const reply = await at().deliveries.confirm(
            op.outcome === 'sent'
              ? { offerId: handle.offerId, channel: handle.channel, token: handle.token, outcome: 'sent' }
              : {
                  offerId: handle.offerId,
                  channel: handle.channel,
                  token: handle.token,
                  ...(op.outcome === 'failed'
                    ? { outcome: op.outcome, reason: reasons.failed }
                    : op.outcome === 'retry'
                      ? { outcome: op.outcome, reason: reasons.retry }
                      : { outcome: op.outcome, reason: reasons.unknown }),
                },
          );
          const expected = model.confirm(handle.offerId, handle.channel, handle.token, op.outcome, reply.now);
          expect(reply.result, where).toBe(expected);
          // A definite "not sent" takes a possible send back.
          if (reply.result === 'confirmed' && (op.outcome === 'failed' || op.outcome === 'retry')) {
            const key = `${handle.offerId}:${handle.channel}`;
            possibleSends.set(key, (possibleSends.get(key) ?? 1) - 1);
          }
          lastNow = reply.now;
          break;
        }
        case 'expireLease': {
          const offerId = pickOffer(op.pick);
          if (!offerId) break;
          const reply = await at()
            .deliveries.expireLease(offerId, op.channel)
            .catch((error: unknown) => {
              if (error instanceof ConcordError && error.code === 'not_found') return undefined;
              throw error;
            });
          if (!reply) {
            expect(model.offers.get(offerId)!.deliveries[op.channel], where).toBeUndefined();
            break;
          }
          expect(reply.result, where).toBe(model.expireLease(offerId, op.channel, reply.now));
          lastNow = reply.now;
          break;
        }
        case 'advance':
          skew += op.minutes * MINUTE;
          lastNow += op.minutes * MINUTE;
          break;
        case 'read': {
          const customerId = CUSTOMERS[op.customer];
          const live = await at().offers.currentOffer(customerId, op.slot);
          expect(live.offer?.offerId, where).toBe(model.live(customerId, op.slot, live.now));
          if (live.offer) {
            expect(live.offer.state, where).toBe('active');
            expect(live.offer.validUntil, where).toBeGreaterThan(live.now);
          }
          lastNow = live.now;
          break;
        }
      }
      await checkInvariants(ctx.ledger, model, where);
      // Invariant 4: at most one possible email per offer; pushes repeat only under one idempotency key.
      for (const [key, count] of possibleSends) {
        if (key.endsWith(':email')) expect(count, `${where} ${key}`).toBeLessThanOrEqual(1);
      }
      for (const [key, versions] of pushVersions) expect(versions.size, `${where} ${key}`).toBe(1);
    }

    // Invariant 5: once time has passed every offer and every lease, each delivery has ended with a reason.
    skew += 3 * 24 * 60 * MINUTE;
    const end = at();
    for (const offerId of model.offers.keys()) {
      for (const channel of ['email', 'push'] as const) {
        const delivery = model.offers.get(offerId)!.deliveries[channel];
        if (!delivery) continue;
        const reply = await end.deliveries.expireLease(offerId, channel);
        model.expireLease(offerId, channel, reply.now);
      }
    }
    for (const customerId of CUSTOMERS) {
      for (const offer of await ctx.ledger.offers.customerOffers(customerId)) {
        const settled = await end.offers.activate(offer.offerId);
        model.settle(customerId, settled.now);
      }
    }
    await checkInvariants(ctx.ledger, model, 'after the end of time');
    for (const customerId of CUSTOMERS) {
      for (const offer of await ctx.ledger.offers.customerOffers(customerId)) {
        expect(['redeemed', 'expired', 'cancelled', 'superseded']).toContain(offer.state);
        for (const delivery of Object.values(offer.deliveries)) {
          expect(['sent', 'skipped', 'cancelled', 'failed', 'unknown']).toContain(delivery.state);
          if (delivery.state !== 'sent') expect(delivery.reason, JSON.stringify(offer)).toBeTruthy();
        }
      }
    }
  } finally {
    await ctx.cleanup();
  }
}

/** Invariants 1 and 6, and agreement with the model, read from the ledger as it is now. */
async function checkInvariants(ledger: Ledger, model: LedgerModel, where: string): Promise<void> {
  for (const customerId of CUSTOMERS) {
    const offers = await ledger.offers.customerOffers(customerId);
    const expected = [...model.offers.values()].filter((o) => o.customerId === customerId);
    expect(offers.map((o) => o.offerId).sort(), where).toEqual(expected.map((o) => o.offerId).sort());
    for (const offer of offers) {
      const mine = model.offers.get(offer.offerId)!;
      expect(summary(offer), `${where} ${offer.offerId}`).toEqual(summary(mine));
    }
    // Invariant 1: one live offer per (customer, slot).
    const liveSlots = offers.filter((o) => o.state === 'active').map((o) => o.slot);
    expect(new Set(liveSlots).size, `${where} ${customerId}`).toBe(liveSlots.length);

    // Invariant 6: the latest history entry of each offer and delivery names its current state.
    const history = await ledger.customers.history(customerId);
    for (const offer of offers) {
      const own = history.filter((e) => e.offer === offer.offerId);
      const lastOfOffer = own.filter((e) => e.channel === undefined).at(-1);
      expect(lastOfOffer?.state, `${where} history of ${offer.offerId}`).toBe(offer.state);
      expect(lastOfOffer?.version, `${where} history of ${offer.offerId}`).toBe(offer.version);
      for (const [channel, delivery] of Object.entries(offer.deliveries)) {
        const last = own.filter((e) => e.channel === channel).at(-1);
        if (last === undefined)
          expect(delivery.state, `${where} ${offer.offerId} ${channel}`).toBe('scheduled');
        else expect(last.state, `${where} history of ${offer.offerId} ${channel}`).toBe(delivery.state);
      }
    }
  }
}

/** What the ledger and the model must agree on, for an offer of either. */
function summary(
  offer: Pick<OfferRecord, 'state' | 'version'> & { deliveries: Partial<Record<string, DeliveryFields>> },
) {
  return {
    state: offer.state,
    version: offer.version,
    deliveries: Object.fromEntries(
      Object.entries(offer.deliveries).map(([channel, d]) => [
        channel,
        { state: d?.state, reason: d?.reason, attempts: d?.attempts, retraction: d?.retraction },
      ]),
    ),
  };
}

describe('the ledger against a plain model, over random operation sequences', () => {
  it(`agrees with the model and keeps invariants 1, 3, 4, 5 and 6 (${RUNS} runs)`, async () => {
    const seed = process.env['TEST_SEED'] === undefined ? undefined : Number(process.env['TEST_SEED']);
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 40 }), async (ops) => {
        await runSequence(ops);
      }),
      {
        numRuns: RUNS,
        ...(seed === undefined ? {} : { seed }),
        endOnFailure: false,
        verbose: fc.VerbosityLevel.Verbose,
      },
    );
  }, 600_000);
});
