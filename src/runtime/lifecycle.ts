/** How long-running commands (serve, work, all, demo) end: on a signal, after stopping cleanly. */

let running = false;

/** True once a command has started services that run until a signal stops them. */
export function keepsRunning(): boolean {
  return running;
}

/**
 * Keeps the process running until SIGINT or SIGTERM, then runs `stop` and exits 0 (1 if stopping
 * failed or took longer than `graceMs`). A second signal exits at once.
 */
export function stopOnSignal(
  stop: () => Promise<void>,
  options: { graceMs?: number; onStopping?: () => void } = {},
) {
  running = true;
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`concord: ${signal} again, exiting without waiting\n`);
      process.exit(130);
    }
    stopping = true;
    options.onStopping?.();
    const timer = setTimeout(() => {
      process.stderr.write('concord: did not stop in time, exiting\n');
      process.exit(1);
    }, options.graceMs ?? 15_000);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `concord: while stopping: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
