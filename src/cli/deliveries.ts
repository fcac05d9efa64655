import { Command, InvalidArgumentError, Option } from 'commander';
import { offerIdSchema, QUEUED_CHANNELS, type QueuedChannel } from '../ledger/index.ts';
import { withJson, withLedger } from './context.ts';
import { instant, printJson, printTable } from './output.ts';
import { integer, optional } from './parse.ts';

/** `concord deliveries unknown|resolve`: support's tools for sends whose outcome is not known. */
export function deliveriesCommand(): Command {
  const deliveries = new Command('deliveries').description('deliveries whose outcome is not known');

  withJson(
    deliveries
      .command('unknown')
      .description('deliveries whose outcome is not known, oldest first (never resent automatically)')
      .option('--limit <n>', 'at most this many', integer(1, 10_000), 1000),
  ).action(async (options: { limit: number; json?: boolean }) => {
    await withLedger(options, async ({ ledger, out, json }) => {
      const refs = await ledger.indexes.unknownDeliveries(options.limit);
      if (json) {
        printJson(out, { deliveries: refs.map((ref) => ({ ...ref, at: new Date(ref.at).toISOString() })) });
        return;
      }
      if (refs.length === 0) {
        out.line('no deliveries of unknown outcome');
        return;
      }
      printTable(
        out,
        ['since', 'customer', 'offer', 'channel'],
        refs.map((ref) => [instant(ref.at) ?? '', ref.customerId, ref.offerId, ref.channel]),
      );
    });
  });

  withJson(
    deliveries
      .command('resolve')
      .description('settle an unknown delivery: it was sent, or send it again')
      .argument('<offerId>', 'offer id (o07-…)', (value: string) => {
        const parsed = offerIdSchema.safeParse(value);
        if (!parsed.success) throw new InvalidArgumentError('expected an offer id such as o07-01J…');
        return parsed.data;
      })
      .argument('<channel>', `channel (${QUEUED_CHANNELS.join(', ')})`, (value: string) => {
        if (!(QUEUED_CHANNELS as readonly string[]).includes(value)) {
          throw new InvalidArgumentError(`expected one of ${QUEUED_CHANNELS.join(', ')}`);
        }
        return value as QueuedChannel;
      })
      .addOption(
        new Option('--as <outcome>', 'sent: it arrived; resend: send it again')
          .choices(['sent', 'resend'])
          .makeOptionMandatory(),
      )
      .option('--reason <text>', 'why (kept in the history)'),
  ).action(
    async (
      offerId: string,
      channel: QueuedChannel,
      options: { as: 'sent' | 'resend'; reason?: string; json?: boolean },
    ) => {
      await withLedger(options, async ({ ledger, actor, out, json }) => {
        const reply = await ledger.deliveries.resolveDelivery(offerId, channel, {
          as: options.as,
          actor,
          ...optional('reason', options.reason),
        });
        if (json) {
          printJson(out, { offerId, channel, result: reply.result, delivery: reply.delivery });
          return;
        }
        const reason = reply.delivery.reason ? ` (${reply.delivery.reason})` : '';
        const what = reply.result === 'resolved' ? 'resolved' : `unchanged (${reply.result})`;
        out.line(`${offerId} ${channel}: ${what}; delivery is ${reply.delivery.state}${reason}`);
      });
    },
  );

  return deliveries;
}
