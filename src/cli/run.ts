import { Command, Option } from 'commander';
import { loadEnv } from '../config/env.ts';
import { QUEUE_NAMES, type QueueName } from '../queue/names.ts';
import { integer, listOf } from './parse.ts';
import { stopOnSignal } from '../runtime/lifecycle.ts';
import type { ServicesOptions } from '../runtime/services.ts';
import { z } from 'zod';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

interface ApiFlags {
  host: string;
  logLevel: string;
}

interface WorkFlags {
  queues?: QueueName[];
  concurrency?: number;
}

const apiOptions = (command: Command): Command =>
  command
    .option('--host <host>', 'address to listen on (PORT sets the port)', '127.0.0.1')
    .addOption(
      new Option('--log-level <level>', 'request log level (JSON lines on stdout)')
        .choices(LOG_LEVELS)
        .default('info'),
    );

const workOptions = (command: Command): Command =>
  command
    .option(
      '--queues <list>',
      `queues to work, comma separated (default all: ${QUEUE_NAMES.join(',')})`,
      listOf(z.enum(QUEUE_NAMES), QUEUE_NAMES.join(', ')),
    )
    .option('--concurrency <n>', 'jobs in flight per queue (default 16)', integer(1, 1000));

/** `concord serve`, `concord work`, `concord all`: the long-running processes of a deployment. */
export function runCommands(): Command[] {
  const serve = apiOptions(new Command('serve').description('run the HTTP API')).action(
    async (flags: ApiFlags) => {
      await run({ api: { host: flags.host, logLevel: flags.logLevel } }, 'serve');
    },
  );
  const work = workOptions(
    new Command('work').description(
      'run the workers (email, push, retract, timers, campaigns) and the outbox relay',
    ),
  ).action(async (flags: WorkFlags) => {
    await run({ workers: workers(flags) }, 'work');
  });
  const all = workOptions(
    apiOptions(new Command('all').description('run the API and the workers in one process')),
  ).action(async (flags: ApiFlags & WorkFlags) => {
    await run({ api: { host: flags.host, logLevel: flags.logLevel }, workers: workers(flags) }, 'all');
  });
  return [serve, work, all];
}

function workers(flags: WorkFlags): NonNullable<ServicesOptions['workers']> {
  return {
    ...(flags.queues === undefined ? {} : { queues: flags.queues }),
    ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
  };
}

async function run(parts: Omit<ServicesOptions, 'env' | 'onError'>, name: string): Promise<void> {
  // Loaded on demand: the API and the workers are most of the program, and one-shot commands need neither.
  const { startServices } = await import('../runtime/services.ts');
  const services = await startServices({
    env: loadEnv(),
    ...parts,
    onError: (message) => {
      process.stderr.write(`concord ${name}: ${message}\n`);
    },
  });
  stopOnSignal(() => services.close());
  const queues = parts.workers?.queues ?? QUEUE_NAMES;
  const what = [
    services.url === undefined ? undefined : `API listening on ${services.url}`,
    parts.workers ? `workers ready (${queues.join(', ')})` : undefined,
    services.adminUrl === undefined ? undefined : `admin listener on ${services.adminUrl}`,
  ].filter((part) => part !== undefined);
  process.stdout.write(`concord ${name}: ${what.join('; ')}\n`);
}
