/** The SMTP sink and push sink in a process of their own, so their CPU is measured apart. */
import { serve } from '../lib/rpc.ts';
import type { SinksCommands } from '../lib/protocol.ts';
import { startSinks } from '../lib/sinks.ts';

const sinks = await startSinks();
serve<SinksCommands>(
  {
    counts: async () => sinks.counts(),
    records: async () => sinks.records(),
    reset: async () => {
      sinks.reset();
      return null;
    },
    slow: async ({ ms }) => {
      sinks.slow(ms);
      return null;
    },
  },
  { smtpUrl: sinks.smtpUrl, pushUrl: sinks.pushUrl },
  () => sinks.close(),
);
