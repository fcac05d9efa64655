import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { CampaignPreview } from '../campaigns/preview.ts';
import { campaignView, type Campaign } from '../campaigns/record.ts';
import type { GuardrailRules } from '../config/guardrails.ts';
import { Campaigns } from '../campaigns/service.ts';
import { ConcordError } from '../errors.ts';
import { closeQueues, openQueues } from '../queue/queues.ts';
import { withJson, withLedger, type CliContext } from './context.ts';
import { instant, printDetails, printJson, printTable, type Output } from './output.ts';
import { isoInstant } from './parse.ts';

/** Runs `body` with the campaigns use case on the ledger's connection. */
async function withCampaigns(
  options: { json?: boolean },
  body: (campaigns: Campaigns, context: CliContext) => Promise<void>,
): Promise<void> {
  await withLedger(options, async (context) => {
    const queues = openQueues(context.redis, context.env.CONCORD_PREFIX);
    try {
      const campaigns = new Campaigns({
        ledger: context.ledger,
        queue: queues.campaigns,
        slotPolicy: (slot) => context.ledger.offers.policyFor(slot),
      });
      await body(campaigns, context);
    } finally {
      await closeQueues(queues);
    }
  });
}

/** Reads a campaign definition from a JSON file, or stdin for `-`. */
async function readDefinition(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new ConcordError(
      'invalid_input',
      `${file}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConcordError(
      'invalid_input',
      `${file}: not JSON (${error instanceof Error ? error.message : ''})`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function printCampaign(
  out: Output,
  json: boolean,
  campaign: Campaign,
  deployment: GuardrailRules,
  extra: Record<string, unknown> = {},
): void {
  const view = campaignView(campaign, deployment);
  if (json) {
    printJson(out, { campaign: view, ...extra });
    return;
  }
  const rules = view.guardrails;
  const { progress, schedule } = campaign;
  const skipped = Object.entries(progress.skippedBy)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  printDetails(out, [
    ['id', campaign.id],
    ['name', campaign.definition.name],
    ['state', campaign.state + (campaign.runActive ? ' (a run is going on)' : '')],
    ['author', campaign.author],
    ['approved by', campaign.approvedBy],
    ['note', campaign.approvalNote],
    [
      'schedule',
      schedule === undefined
        ? undefined
        : schedule.kind === 'once'
          ? `once at ${instant(schedule.at) ?? ''}`
          : `cron "${schedule.cron}" (${schedule.timezone})`,
    ],
    ['slot', campaign.definition.slot],
    ['channels', campaign.definition.channels.join(', ')],
    ['audience', String(progress.audience)],
    ['runs', String(progress.runs)],
    ['processed', String(progress.processed)],
    ['issued', String(progress.issued)],
    ['skipped', progress.skipped === 0 ? '0' : `${progress.skipped} (${skipped})`],
    ['cancelled', progress.cancelled === 0 ? undefined : String(progress.cancelled)],
    ['end reason', campaign.endReason],
    ['caps', `email ${rules.caps.email}, push ${rules.caps.push}, any ${rules.caps.any}`],
    ['quiet hours', rules.quietHours],
    ['return block', rules.returnBlock],
    ['purchase block', rules.purchaseBlock],
    ['stock max age', rules.stockMaxAge],
    ['signal max age', rules.signalMaxAge],
    ['sensitive', rules.sensitiveCategories.join(', ') || 'none'],
    ['changed rules', rules.changed.length === 0 ? undefined : rules.changed.join(', ')],
    ['loosened', rules.loosen.length === 0 ? undefined : rules.loosen.join(', ')],
  ]);
}

function printPreview(out: Output, preview: CampaignPreview): void {
  printDetails(out, [
    ['audience', String(preview.audience)],
    ['evaluated', `${preview.evaluated}${preview.partial ? ' (the first ones only)' : ''}`],
    ...Object.entries(preview.customers).map(
      ([outcome, count]) => [outcome.replaceAll('_', ' '), String(count)] as const,
    ),
    [
      'stock',
      preview.stock === undefined ? undefined : `${preview.stock.sku}: ${stockWords(preview.stock.inStock)}`,
    ],
  ]);
  out.line();
  printTable(
    out,
    ['channel', 'reachable', 'no consent', 'no address'],
    Object.entries(preview.channels).map(([channel, counts]) => [
      channel,
      String(counts['reachable'] ?? 0),
      String(counts['no_consent'] ?? 0),
      String(counts['no_address'] ?? 0),
    ]),
  );
  const { email, push } = preview.samples;
  if (email || push) out.line();
  if (email) out.line(`email subject: ${email.subject}`);
  if (push) out.line(`push: ${push.title} — ${push.body}`);
  if (email || push) out.line('(the full renders are in --json)');
}

function stockWords(inStock: boolean | null): string {
  if (inStock === null) return 'not known';
  return inStock ? 'in stock' : 'out of stock';
}

/** `concord campaign create|show|list|preview|approve|schedule|pause|resume|cancel`. */
export function campaignCommand(): Command {
  const campaign = new Command('campaign').description('write, approve, schedule and stop campaigns');

  withJson(
    campaign
      .command('create')
      .description(
        'store a campaign (draft) from a JSON file (its fields: docs/API.md, "A campaign definition"); - reads stdin',
      )
      .argument('<file>', 'the campaign definition'),
  ).action(async (file: string, options: { json?: boolean }) => {
    const definition = await readDefinition(file);
    await withCampaigns(options, async (campaigns, { actor, out, json, ledger }) => {
      let created: Campaign;
      try {
        created = await campaigns.create(definition, actor);
      } catch (error) {
        if (error instanceof ConcordError && error.code === 'invalid_input') {
          throw new ConcordError('invalid_input', `${file}: ${error.message}`);
        }
        throw error;
      }
      printCampaign(out, json, created, ledger.limits.guardrails);
    });
  });

  withJson(
    campaign.command('show').description('a campaign with its state and progress').argument('<id>'),
  ).action(async (id: string, options: { json?: boolean }) => {
    await withCampaigns(options, async (campaigns, { out, json, ledger }) => {
      printCampaign(out, json, await campaigns.get(id), ledger.limits.guardrails);
    });
  });

  withJson(campaign.command('list').description('campaigns, newest first')).action(
    async (options: { json?: boolean }) => {
      await withCampaigns(options, async (campaigns, { out, json, ledger }) => {
        const list = await campaigns.list();
        if (json) {
          printJson(out, { campaigns: list.map((item) => campaignView(item, ledger.limits.guardrails)) });
          return;
        }
        printTable(
          out,
          ['id', 'state', 'audience', 'issued', 'skipped', 'name'],
          list.map((item) => [
            item.id,
            item.state,
            String(item.progress.audience),
            String(item.progress.issued),
            String(item.progress.skipped),
            item.definition.name,
          ]),
        );
      });
    },
  );

  withJson(
    campaign
      .command('preview')
      .description('audience, guardrail outcomes and sample renders; changes nothing')
      .argument('<id>'),
  ).action(async (id: string, options: { json?: boolean }) => {
    await withCampaigns(options, async (campaigns, { out, json }) => {
      const preview = await campaigns.preview(id);
      if (json) printJson(out, { preview });
      else printPreview(out, preview);
    });
  });

  withJson(
    campaign
      .command('approve')
      .description('approve a draft (someone other than its author)')
      .argument('<id>')
      .option('--note <text>', 'why it is fine'),
  ).action(async (id: string, options: { note?: string; json?: boolean }) => {
    await withCampaigns(options, async (campaigns, { actor, out, json, ledger }) => {
      printCampaign(out, json, await campaigns.approve(id, actor, options.note), ledger.limits.guardrails);
    });
  });

  withJson(
    campaign
      .command('schedule')
      .description('run an approved campaign now, once at --at, or on every fire of --cron')
      .argument('<id>')
      .option('--at <iso>', 'when to run it (default now)', isoInstant)
      .option('--cron <pattern>', 'run on every fire (5 fields, or 6 with seconds first)')
      .option('--timezone <zone>', 'time zone of --cron (default UTC)'),
  ).action(
    async (
      id: string,
      options: { at?: number; cron?: string; timezone?: string; json?: boolean },
      command: Command,
    ) => {
      if (options.at !== undefined && options.cron !== undefined) {
        command.error('error: give --at or --cron, not both', { exitCode: 2, code: 'concord.usage' });
      }
      const request =
        options.cron === undefined
          ? options.at === undefined
            ? {}
            : { at: new Date(options.at).toISOString() }
          : { cron: options.cron, ...(options.timezone === undefined ? {} : { timezone: options.timezone }) };
      await withCampaigns(options, async (campaigns, { actor, out, json, ledger }) => {
        printCampaign(out, json, await campaigns.schedule(id, request, actor), ledger.limits.guardrails);
      });
    },
  );

  for (const [name, description] of [
    ['pause', 'stop issuing at the next page'],
    ['resume', 'go on where the pause stopped'],
    ['cancel', 'cancel it and end every live offer it issued, on every channel'],
  ] as const) {
    withJson(
      campaign.command(name).description(description).argument('<id>').option('--reason <text>', 'why'),
    ).action(async (id: string, options: { reason?: string; json?: boolean }) => {
      await withCampaigns(options, async (campaigns, { actor, out, json, ledger }) => {
        if (name === 'cancel') {
          const { campaign: cancelled, ended } = await campaigns.cancel(id, actor, options.reason);
          printCampaign(out, json, cancelled, ledger.limits.guardrails, { ended });
          if (!json) out.line(`offers ended now: ${ended}`);
          return;
        }
        const changed =
          name === 'pause'
            ? await campaigns.pause(id, actor, options.reason)
            : await campaigns.resume(id, actor, options.reason);
        printCampaign(out, json, changed, ledger.limits.guardrails);
      });
    });
  }

  return campaign;
}
