import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from './redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServer | undefined;

/** Starts one private redis-server for the run, unless REDIS_URL points the suite elsewhere. */
export async function setup(project: TestProject): Promise<void> {
  const external = process.env['REDIS_URL'];
  if (external) {
    project.provide('redisUrl', external);
    return;
  }
  server = await startRedisServer();
  project.provide('redisUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.destroy();
}
