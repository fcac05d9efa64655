import { Command, InvalidArgumentError, Option } from 'commander';
import { discountText } from '../channels/view.ts';
import { supportOfferView, type SupportOfferView } from '../support/views.ts';
import { ConcordError } from '../errors.ts';
import {
  channelSchema,
  offerIdSchema,
  slotPolicySchema,
  type Channel,
  type Discount,
  type IssueOfferInput,
  type OfferRecord,
  type SlotPolicy,
} from '../ledger/index.ts';
import { withJson, withLedger } from './context.ts';
import { instant, printDetails, printJson, printTable, type Output } from './output.ts';
import { addDuration, type IsoDuration } from '../time.ts';
import { integer, isoDuration, isoInstant, listOf, number, optional } from './parse.ts';

interface IssueOptions {
  customer: string;
  title: string;
  body?: string;
  code?: string;
  percent?: number;
  amount?: number;
  currency?: string;
  freeShipping?: boolean;
  sku?: string;
  category?: string;
  slot: string;
  channels: Channel[];
  validFrom?: number;
  validUntil?: number;
  validFor?: IsoDuration;
  priority?: number;
  policy?: SlotPolicy;
  campaign?: string;
  idempotencyKey?: string;
  json?: boolean;
}

/** `concord offer issue|show|cancel`. */
export function offerCommand(): Command {
  const offer = new Command('offer').description('issue, read and cancel offers');

  withJson(
    offer
      .command('issue')
      .description('issue one offer; the slot policy settles any contradiction in the same step')
      .requiredOption('--customer <id>', 'customer id')
      .requiredOption('--title <text>', 'headline of the offer')
      .option('--body <text>', 'body text')
      .option('--code <code>', 'discount code')
      .addOption(
        new Option('--percent <n>', 'percent off')
          .argParser(number)
          .conflicts(['amount', 'freeShipping', 'currency']),
      )
      .addOption(
        new Option('--amount <n>', 'amount off (with --currency)')
          .argParser(number)
          .conflicts('freeShipping'),
      )
      .option('--currency <code>', 'ISO 4217 currency of --amount, e.g. EUR')
      .addOption(new Option('--free-shipping', 'free shipping').conflicts('currency'))
      .option('--sku <sku>', 'the SKU the offer prices')
      .option('--category <category>', 'the category the offer prices')
      .option('--slot <slot>', 'the slot it takes', 'promo')
      .addOption(
        new Option('--channels <list>', 'channels, comma separated')
          .argParser(listOf(channelSchema, 'email, push, web'))
          .default(['email', 'push', 'web'], 'email,push,web'),
      )
      .option('--valid-from <iso>', 'when it starts (default now)', isoInstant)
      .addOption(
        new Option('--valid-until <iso>', 'when it ends (or --valid-for)')
          .argParser(isoInstant)
          .conflicts('validFor'),
      )
      .option('--valid-for <duration>', 'ISO-8601 duration from its start, e.g. P7D', isoDuration)
      .option('--priority <n>', 'higher wins the slot', integer(-1000, 1000))
      .addOption(
        new Option('--policy <policy>', "when the slot is taken (default: the slot's policy)").choices(
          slotPolicySchema.options,
        ),
      )
      .option('--campaign <id>', 'campaign id')
      .option('--idempotency-key <key>', 'the same key returns the same offer'),
  ).action(async (options: IssueOptions, command: Command) => {
    const discount = discountOf(options, command);
    if (options.validUntil === undefined && options.validFor === undefined) {
      command.error('error: one of --valid-until or --valid-for is required', {
        exitCode: 2,
        code: 'concord.usage',
      });
    }
    await withLedger(options, async ({ ledger, actor, out, json }) => {
      // --valid-for counts from the start: --valid-from, else now on the ledger clock (which
      // then becomes validFrom, so the window is exactly the duration given).
      const validFrom =
        options.validFrom ?? (options.validUntil === undefined ? await ledger.now() : undefined);
      const validUntil = options.validUntil ?? addDuration(validFrom ?? 0, options.validFor as IsoDuration);
      const input: IssueOfferInput = {
        customerId: options.customer,
        slot: options.slot,
        title: options.title,
        discount,
        channels: options.channels,
        validUntil,
        ...optional('body', options.body),
        ...optional('code', options.code),
        ...optional('sku', options.sku),
        ...optional('category', options.category),
        ...optional('validFrom', validFrom),
        ...optional('priority', options.priority),
        ...optional('policy', options.policy),
        ...optional('campaignId', options.campaign),
        ...optional('idempotencyKey', options.idempotencyKey),
      };
      const result = await ledger.offers.issue(input, actor);
      if (json) {
        printJson(out, {
          offer: supportOfferView(result.offer),
          superseded: result.superseded,
          duplicate: result.duplicate,
        });
        return;
      }
      printOffer(out, result.offer);
      if (result.duplicate) out.line('(already issued with this idempotency key: nothing changed)');
      for (const loser of result.superseded) out.line(`superseded ${loser}`);
    });
  });

  withJson(
    offer
      .command('show')
      .description('an offer with its deliveries')
      .argument('<offerId>', 'offer id (o07-…)', offerId),
  ).action(async (id: string, options: { json?: boolean }) => {
    await withLedger(options, async ({ ledger, out, json }) => {
      const record = await ledger.offers.getOffer(id);
      if (!record) throw new ConcordError('not_found', `no offer ${id}`);
      if (json) printJson(out, supportOfferView(record));
      else printOffer(out, record);
    });
  });

  withJson(
    offer
      .command('cancel')
      .description('end an offer on every channel')
      .argument('<offerId>', 'offer id (o07-…)', offerId)
      .requiredOption('--reason <text>', 'why (kept in the history)')
      .option(
        '--expected-version <n>',
        'refuse if the offer changed since this version',
        integer(1, 2 ** 31),
      ),
  ).action(async (id: string, options: { reason: string; expectedVersion?: number; json?: boolean }) => {
    await withLedger(options, async ({ ledger, actor, out, json }) => {
      const result = await ledger.offers.cancel(id, {
        reason: options.reason,
        actor,
        ...optional('expectedVersion', options.expectedVersion),
      });
      if (json) {
        printJson(out, { offer: supportOfferView(result.offer), changed: result.changed });
        return;
      }
      printOffer(out, result.offer);
      if (!result.changed) out.line(`(the offer had already ended: ${result.offer.state})`);
    });
  });

  return offer;
}

/** The offer as people read it: its terms, then one row per delivery. */
export function printOffer(out: Output, record: OfferRecord): void {
  const view: SupportOfferView = supportOfferView(record);
  printDetails(out, [
    ['offer', view.offerId],
    ['customer', view.customerId],
    ['slot', view.slot],
    ['state', record.endReason ? `${view.state} (${record.endReason})` : view.state],
    ['title', view.title],
    ['body', view.body || undefined],
    ['code', view.code ?? undefined],
    ['discount', discountText(record.discount)],
    ['sku', view.sku ?? undefined],
    ['category', view.category ?? undefined],
    ['valid', `${instant(record.validFrom) ?? ''} → ${instant(record.validUntil) ?? ''}`],
    ['priority', String(view.priority)],
    ['campaign', view.campaignId ?? undefined],
    ['version', String(view.version)],
    ['superseded by', view.supersededBy],
  ]);
  out.line();
  printTable(
    out,
    ['channel', 'state', 'attempts', 'sent at', 'reason'],
    record.channels.map((channel) => {
      const delivery = record.deliveries[channel];
      return [
        channel,
        delivery?.state ?? '-',
        String(delivery?.attempts ?? 0),
        instant(delivery?.sentAt) ?? '-',
        delivery?.reason ?? '',
      ];
    }),
  );
}

function discountOf(options: IssueOptions, command: Command): Discount {
  const usage = (message: string): never =>
    command.error(`error: ${message}`, { exitCode: 2, code: 'concord.usage' });
  if (options.percent !== undefined) return { kind: 'percent', value: options.percent };
  if (options.amount !== undefined) {
    if (options.currency === undefined) return usage('--amount needs --currency (e.g. --currency EUR)');
    return { kind: 'amount', value: options.amount, currency: options.currency };
  }
  if (options.currency !== undefined) return usage('--currency goes with --amount');
  if (options.freeShipping) return { kind: 'free_shipping' };
  return usage('one of --percent, --amount with --currency, or --free-shipping is required');
}

function offerId(value: string): string {
  const parsed = offerIdSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('expected an offer id such as o07-01J…');
  return parsed.data;
}
