/**
 * `node --import tsx workers/main.ts`: the workers as a process of their own, configured by the
 * environment. Prints `ready` once every worker listens; SIGTERM or SIGINT stops it gracefully.
 */
import { loadEnv } from '../src/config/env.ts';
import { isConcordError } from '../src/errors.ts';
import { startWorkersFromEnv } from '../src/runtime/workers.ts';

try {
  const env = loadEnv();
  const runtime = await startWorkersFromEnv(env, {
    onError: (error, where) => {
      console.error(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  console.log('ready');
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void runtime.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (error) {
  console.error(isConcordError(error) ? error.message : error);
  process.exit(1);
}
