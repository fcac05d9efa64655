import { Command, Option } from 'commander';

/**
 * `concord demo` (what `npm start` runs). The command line launches the demo; the demo never
 * imports the command line (both are built on src/runtime).
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'API, workers, email and push capture and sample data in one process, on REDIS_URL, ' +
        'the Redis at 127.0.0.1:6379, or a private redis-server',
    )
    .option(
      '--private-redis',
      'start a private redis-server even if one answers at 127.0.0.1:6379 (REDIS_URL still wins)',
    )
    .option('--no-seed', 'do not add the sample customers and offers')
    .option('--host <host>', 'address to listen on (PORT sets the port)', 'localhost')
    .addOption(
      new Option('--log-level <level>', 'request log level (JSON lines on stdout)')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
        .default('warn'),
    )
    .action(async (flags: { privateRedis?: boolean; seed: boolean; host: string; logLevel: string }) => {
      const { runDemo } = await import('../demo/index.ts');
      await runDemo({
        host: flags.host,
        privateRedis: flags.privateRedis === true,
        seed: flags.seed,
        logLevel: flags.logLevel,
      });
    });
}
