// @ts-check
/**
 * Concord's layers as rules (`npm run check:deps`, part of `npm run check`). Imports point down
 * this list and never up; docs/ARCHITECTURE.md describes each room.
 *
 *   entry     bin/, src/cli/, src/demo/, workers/main.ts — the programs a person starts
 *   runtime   src/runtime/ — builds what a process needs and assembles it (connections, the
 *             ledger with its metrics, the link signer, the channel policy, the workers, the API)
 *   servers   src/api/, workers/ (the job processors) — handed their dependencies, build none
 *   use cases src/campaigns/, src/events/, src/support/, src/delivery/
 *   core      src/ledger/, src/queue/, src/channels/
 *   base      src/config/, src/metrics/, src/errors.ts, src/time.ts, src/actors.ts
 *
 * The runtime is not part of the core: it imports the link signer and the send path's policy from
 * src/delivery and assembles src/api and the processors, so it sits above them, under the entry
 * points that start it. Tests and benchmarks are not cruised: they may reach into any room.
 */

const ENTRY = '^(bin/|src/cli/|src/demo/|workers/main[.]ts$)';
const RUNTIME = '^src/runtime/';
const SERVERS = '^(src/api/|workers/)';
const USE_CASES = '^src/(campaigns|events|support|delivery)/';
const CORE = '^src/(ledger|queue|channels)/';
const BASE = '^src/(config/|metrics/|errors[.]ts$|time[.]ts$|actors[.]ts$)';
const ROOMS = [ENTRY, RUNTIME, SERVERS, USE_CASES, CORE, BASE];

/** A rule that forbids `from` (not counting `fromNot`) importing any of `to`. */
const forbid = (name, comment, from, to, extra = {}) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from, ...extra.from },
  to: { path: to, ...extra.to },
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    forbid(
      'in-a-room',
      'Every module belongs to a room of the list above; a new room is placed in it before it is used.',
      '^(src|workers|bin)/',
      '',
      { from: { pathNot: ROOMS } },
    ),

    // Nothing points up.
    forbid(
      'runtime-not-up',
      'The runtime is started by the entry points and never reaches back into them.',
      RUNTIME,
      ENTRY,
    ),
    forbid(
      'servers-not-up',
      'The API and the processors are handed what they use; only the runtime builds it.',
      SERVERS,
      `${ENTRY}|${RUNTIME}`,
      { from: { pathNot: ENTRY } },
    ),
    forbid(
      'use-cases-not-up',
      'Use cases serve every face alike, so they know none of them.',
      USE_CASES,
      `${ENTRY}|${RUNTIME}|${SERVERS}`,
    ),
    forbid(
      'core-not-up',
      'The ledger, the queue and the channels know nothing of the use cases built on them.',
      CORE,
      `${ENTRY}|${RUNTIME}|${SERVERS}|${USE_CASES}`,
    ),
    forbid(
      'base-not-up',
      'Settings, metrics, errors, time and actors are the ground everything stands on.',
      BASE,
      `${ENTRY}|${RUNTIME}|${SERVERS}|${USE_CASES}|${CORE}`,
    ),

    // Entry points: the command line may launch the demo; the demo never uses the command line.
    forbid(
      'demo-not-cli',
      'The demo is built on src/runtime, never on the command line.',
      '^src/demo/',
      '^src/cli/',
    ),
    forbid(
      'cli-only-from-bin',
      'The command line is a program, started by bin/concord.mjs; nothing else imports it.',
      '',
      '^src/cli/',
      { from: { pathNot: '^(bin/|src/cli/)' } },
    ),
    forbid(
      'demo-only-from-its-command',
      '`concord demo` (src/cli/demo.ts) is the one way into the demo.',
      '',
      '^src/demo/',
      { from: { pathNot: '^(src/demo/|src/cli/demo[.]ts$)' } },
    ),
    forbid(
      'workers-main-is-a-program',
      'workers/main.ts is a process of its own; nothing imports it.',
      '',
      '^workers/main[.]ts$',
    ),

    // Within a layer.
    forbid(
      'servers-apart',
      'The API and the processors run in the same process only because the runtime puts them there.',
      '^src/api/',
      '^workers/',
    ),
    forbid('processors-apart', 'The job processors know nothing of the API.', '^workers/', '^src/api/'),
    forbid(
      'routes-not-app',
      'A route takes the dependencies it uses (src/api/dependencies.ts); app.ts assembles the routes, never the reverse.',
      '^src/api/routes/',
      '^src/api/app[.]ts$',
    ),
    forbid(
      'use-cases-apart',
      'Each use case stands alone; the one exception is src/support, whose erasure reaches campaign audiences.',
      USE_CASES,
      USE_CASES,
      { from: { pathNot: '^src/support/' }, to: { pathNot: '^src/$1/' } },
    ),
    forbid(
      'support-reaches-campaigns-only',
      'src/support may use src/campaigns and no other use case.',
      '^src/support/',
      '^src/(events|delivery)/',
    ),
    forbid(
      'ledger-bottom-of-core',
      'The ledger is the base of the core: the queue and the channels use its types, it uses neither.',
      '^src/ledger/',
      '^src/(queue|channels)/',
    ),
    forbid(
      'queue-channels-apart',
      'The queue carries ids, not messages; channels know no queue.',
      '^src/queue/',
      '^src/channels/',
    ),
    forbid(
      'channels-queue-apart',
      'A channel renders and sends what it is handed; it enqueues nothing.',
      '^src/channels/',
      '^src/queue/',
    ),

    // The ledger owns its keys.
    forbid(
      'ledger-one-door',
      'Only src/ledger builds or touches ledger keys: its key builder, scripts and Lua stay inside, and ' +
        'everything else goes through src/ledger/index.ts.',
      '',
      '^src/ledger/',
      { from: { pathNot: '^src/ledger/' }, to: { pathNot: '^src/ledger/index[.]ts$' } },
    ),

    // Packages.
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'A package used by the code is named in package.json, or a fresh install lacks it.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'A production install has no devDependencies: the code does not run on them (types aside).',
      severity: 'error',
      from: { path: '^(src|workers|bin)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test|bench)/' },
    // Type-only imports couple rooms too: they count.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
