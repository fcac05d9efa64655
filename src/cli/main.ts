/**
 * The `concord` command line (bin/concord.mjs runs this file). Every failure prints one line,
 * `concord: <message>`, on stderr and exits non-zero: 2 for a usage mistake (a bad flag or
 * argument), 1 for anything else (bad environment, Redis away, a refused transition).
 */
import { Command, CommanderError } from 'commander';
import { isConcordError } from '../errors.ts';
import { campaignCommand } from './campaign.ts';
import { customerCommand } from './customer.ts';
import { deliveriesCommand } from './deliveries.ts';
import { demoCommand } from './demo.ts';
import { keepsRunning } from '../runtime/lifecycle.ts';
import { offerCommand } from './offer.ts';
import { runCommands } from './run.ts';

/** Exit code of a usage mistake (as commander, getopt and most shells use it). */
export const EXIT_USAGE = 2;

/** The whole program; commands parse with exitOverride, so errors reach {@link main} as exceptions. */
export function buildProgram(): Command {
  const program = new Command('concord')
    .description('Concord: one offer ledger in Redis for email, push and the web banner')
    .showSuggestionAfterError(true);
  for (const command of [
    ...runCommands(),
    demoCommand(),
    offerCommand(),
    campaignCommand(),
    customerCommand(),
    deliveriesCommand(),
  ]) {
    program.addCommand(command);
  }
  configure(program);
  return program;
}

/** Every command reports its parse errors by throwing instead of printing and exiting. */
function configure(command: Command): void {
  command.exitOverride();
  command.configureOutput({ outputError: () => undefined });
  for (const sub of command.commands) configure(sub);
}

/** Runs the program on `argv` and returns the exit code (it does not exit on success of a one-shot). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version succeed; help shown because no command was given is a usage mistake.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      if (error.code === 'commander.help') return EXIT_USAGE;
      fail(error.message.replace(/^error: /, ''));
      return EXIT_USAGE;
    }
    if (isConcordError(error)) {
      fail(error.message);
      return error.code === 'invalid_input' ? EXIT_USAGE : 1;
    }
    // Not a user's mistake, but still one line: the message says what failed.
    fail(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

function fail(message: string): void {
  const line = message.split('\n').find((part) => part.trim() !== '') ?? 'failed';
  process.stderr.write(`concord: ${line.trim()}\n`);
}

process.exitCode = await main(process.argv.slice(2));
// Long-running commands (serve, work, all, demo) stay up until a signal stops them. A one-shot
// command ends when its connections close; should anything linger, it must not hang the shell.
if (process.exitCode !== 0 || !keepsRunning()) setTimeout(() => process.exit(), 2_000).unref();
