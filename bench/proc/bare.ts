/**
 * The banner read at its floor: a bare Node HTTP server answering
 * GET /v1/customers/:id/offers/current with one HGETALL on the same Redis, nothing else.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import type { NoCommands } from '../lib/protocol.ts';
import { serve } from '../lib/rpc.ts';

const redis = new Redis(process.env['REDIS_URL'] ?? '', { maxRetriesPerRequest: 1 });
const route = /^\/v1\/customers\/([^/?]+)\/offers\/current/;
const server = createServer((req, res) => {
  const customerId = route.exec(req.url ?? '')?.[1];
  if (customerId === undefined) {
    res.writeHead(404).end();
    return;
  }
  redis.hgetall(`bare:banner:${customerId}`).then(
    (offer) => {
      if (Object.keys(offer).length === 0) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(offer));
    },
    () => {
      res.writeHead(503).end();
    },
  );
});
server.keepAliveTimeout = 30_000;
const port = await new Promise<number>((resolve) => {
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve(typeof address === 'object' && address ? address.port : 0);
  });
});
serve<NoCommands>({ errors: async () => [] }, { url: `http://127.0.0.1:${port}` }, async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  redis.disconnect();
});
