import { Command, InvalidArgumentError } from 'commander';
import { profileView } from '../support/views.ts';
import { ConcordError } from '../errors.ts';
import {
  channelSchema,
  customerIdSchema,
  storedCustomerIdSchema,
  type Channel,
  type ProfilePatch,
} from '../ledger/index.ts';
import { closeQueues, openQueues } from '../queue/queues.ts';
import { eraseCustomer } from '../support/erasure.ts';
import { customerHistory } from '../support/history.ts';
import { withJson, withLedger } from './context.ts';
import { instant, printDetails, printJson, printTable } from './output.ts';
import { listOf, optional } from './parse.ts';

interface UpsertOptions {
  email?: string;
  pushEndpoint?: string;
  timezone?: string;
  locale?: string;
  name?: string;
  consent?: Channel[];
  revoke?: Channel[];
  json?: boolean;
}

const channels = listOf(channelSchema, 'email, push, web');

/** `concord customer upsert|show|history|erase`. */
export function customerCommand(): Command {
  const customer = new Command('customer').description("profiles, consent, a customer's history, erasure");

  withJson(
    customer
      .command('upsert')
      .description('create or update a profile (only the fields given change)')
      .argument('<customerId>', 'customer id', customerId)
      .option('--email <address>', 'email address')
      .option('--push-endpoint <url>', 'push endpoint (device token or Web Push URL)')
      .option('--timezone <zone>', 'IANA time zone, e.g. Europe/Paris')
      .option('--locale <tag>', 'BCP 47 language tag, e.g. fr-FR')
      .option('--name <name>', 'display name')
      .option('--consent <channels>', 'grant consent on these channels (email,push,web)', channels)
      .option('--revoke <channels>', 'revoke consent on these channels', channels),
  ).action(async (id: string, options: UpsertOptions, command: Command) => {
    const both = (options.consent ?? []).filter((channel) => options.revoke?.includes(channel));
    if (both.length > 0) {
      command.error(`error: ${both.join(', ')} both granted and revoked`, {
        exitCode: 2,
        code: 'concord.usage',
      });
    }
    const consent: Partial<Record<Channel, boolean>> = {};
    for (const channel of options.consent ?? []) consent[channel] = true;
    for (const channel of options.revoke ?? []) consent[channel] = false;
    const patch: ProfilePatch = {
      ...optional('email', options.email),
      ...optional('pushEndpoint', options.pushEndpoint),
      ...optional('timezone', options.timezone),
      ...optional('locale', options.locale),
      ...optional('name', options.name),
      ...(Object.keys(consent).length === 0 ? {} : { consent }),
    };
    await withLedger(options, async ({ ledger, actor, out, json }) => {
      const result = await ledger.customers.upsertProfile(id, patch, { actor, source: actor });
      if (json) {
        const profile = await ledger.customers.getProfile(id);
        printJson(out, {
          profile: profile ? profileView(profile) : null,
          changed: result.changed,
          ...(result.kept.length === 0 ? {} : { kept: result.kept }),
        });
        return;
      }
      out.line(
        result.changed.length === 0
          ? `${id}: nothing changed`
          : `${id}: updated ${result.changed.join(', ')}`,
      );
      for (const { channel, reason } of result.kept) {
        out.line(`${id}: ${channel} consent kept as it was (${reason.replaceAll('_', ' ')})`);
      }
    });
  });

  withJson(
    customer
      .command('show')
      .description('the profile')
      .argument('<customerId>', 'customer id', storedCustomerId),
  ).action(async (id: string, options: { json?: boolean }) => {
    await withLedger(options, async ({ ledger, out, json }) => {
      const profile = await ledger.customers.getProfile(id);
      if (!profile) throw new ConcordError('not_found', `no customer ${id}`);
      if (json) {
        printJson(out, profileView(profile));
        return;
      }
      printDetails(out, [
        ['customer', profile.customerId],
        ['name', profile.name],
        ['email', profile.email],
        ['push endpoint', profile.pushEndpoint],
        ['time zone', profile.timezone],
        ['locale', profile.locale],
        [
          'sensitive opt-ins',
          profile.sensitiveOptIns.length === 0 ? undefined : profile.sensitiveOptIns.join(', '),
        ],
        ['created', instant(profile.createdAt)],
        ['updated', instant(profile.updatedAt)],
      ]);
      out.line();
      printTable(
        out,
        ['channel', 'consent', 'since', 'source'],
        channelSchema.options.map((channel) => {
          const record = profile.consent[channel];
          return record
            ? [channel, record.granted ? 'granted' : 'revoked', instant(record.at) ?? '', record.source]
            : [channel, 'none recorded', '', ''];
        }),
      );
    });
  });

  withJson(
    customer
      .command('history')
      .description("the customer's timeline, newest first, in plain words, a page at a time")
      .argument('<customerId>', 'customer id', storedCustomerId)
      .option('--limit <n>', 'entries per page (1 to 500)', pageLimit, 100)
      .option('--before <entryId>', 'start below this entry id (the `next` of the previous page)')
      .option('--all', 'every page, one after the other'),
  ).action(async (id: string, options: { json?: boolean; limit: number; before?: string; all?: boolean }) => {
    await withLedger(options, async ({ ledger, out, json }) => {
      const { known: _known, ...history } = await customerHistory(ledger, id, options);
      const { timeline, next } = history;
      if (json) {
        printJson(out, history);
        return;
      }
      if (timeline.length === 0) {
        out.line(`${id}: no history`);
        return;
      }
      printTable(
        out,
        ['at', 'offer', 'channel', 'what'],
        timeline.map((line) => [
          line.at.replace(/\.\d{3}Z$/, 'Z'),
          line.offerId ?? '',
          line.channel ?? '',
          line.text,
        ]),
      );
      if (next !== undefined) out.line(`more: --before ${next}`);
    });
  });

  withJson(
    customer
      .command('erase')
      .description(
        'erase the customer everywhere (profile, offers, history, signals, campaign places, jobs); repeatable',
      )
      .argument('<customerId>', 'customer id (ids with @ stored by earlier versions too)', storedCustomerId),
  ).action(async (id: string, options: { json?: boolean }) => {
    await withLedger(options, async ({ ledger, redis, env, actor, out, json }) => {
      const queues = openQueues(redis, env.CONCORD_PREFIX);
      try {
        const report = await eraseCustomer({ ledger, queues, redis }, id, actor);
        if (json) printJson(out, report);
        else if (!report.erased) out.line('nothing to erase');
        else {
          out.line(
            `erased: ${report.offers} offers, ${report.audienceErasures} campaign audiences, ${report.jobsRemoved} jobs`,
          );
          if (report.jobsInFlight > 0) {
            out.line(
              `${report.jobsInFlight} jobs were running and could not be removed: erase again shortly`,
            );
          }
          if (report.pushesNotRetracted > 0) {
            out.line(`${report.pushesNotRetracted} pushes already shown could not be taken back`);
          }
        }
      } finally {
        await closeQueues(queues);
      }
    });
  });

  return customer;
}

function customerId(value: string): string {
  return parseId(customerIdSchema, value);
}

function storedCustomerId(value: string): string {
  return parseId(storedCustomerIdSchema, value);
}

function parseId(schema: typeof customerIdSchema, value: string): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'expected a customer id');
  return parsed.data;
}

function pageLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new InvalidArgumentError('expected 1 to 500');
  return limit;
}
