/** The HTTP API as `concord serve` runs it, on 127.0.0.1 and a port the OS picks. */
import { startServices } from '../../src/runtime/services.ts';
import { loadEnv } from '../../src/config/env.ts';
import type { NoCommands } from '../lib/protocol.ts';
import { serve } from '../lib/rpc.ts';

const errors: string[] = [];
const services = await startServices({
  env: loadEnv({ ...process.env, PORT: '0' }),
  api: { host: '127.0.0.1', logLevel: 'silent' },
  onError: (message) => {
    if (errors.length < 100) errors.push(message);
  },
});
serve<NoCommands>({ errors: async () => errors }, { url: services.url ?? '' }, () => services.close());
