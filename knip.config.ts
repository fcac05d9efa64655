import type { KnipConfig } from 'knip';

/**
 * The unused-code check (`npm run check:unused`, part of `npm run check`): files no entry reaches,
 * exports nobody imports, and packages that package.json lists but nothing uses (or the reverse).
 */
const config: KnipConfig = {
  // The programs (bin/concord.mjs is found through package.json's "bin"), every test, and the
  // benchmark's processes, which it forks by path. An export that only a test uses stays used.
  entry: ['workers/main.ts', 'test/**/*.test.ts', 'bench/proc/*.ts', 'bench/profile-summary.ts'],
  project: ['src/**/*.ts', 'workers/**/*.ts', 'bin/**/*.mjs', 'test/**/*.ts', 'bench/**/*.ts'],
  // An exported name its own module uses is live code; what this check hunts is dead code.
  ignoreExportsUsedInFile: true,
  // Installed by the system package manager, not npm (the demo and the tests start one).
  ignoreBinaries: ['redis-server'],
};

export default config;
