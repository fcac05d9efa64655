/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a process spent its CPU, from
 * a `node --cpu-prof` profile (written by `npm run bench -- --profile`). Prints self time by
 * package or source directory, the same with Node's own and native work charged to the nearest
 * package or project frame that called it, then the functions with the most self time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Groups a script URL: a package under node_modules, a project directory, or Node itself. */
function area(url: string): string {
  if (url === '') return '(native/vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node:internals';
  const own = /\/work\/[^/]+\/((?:src|workers|bench)\/[^/]+)/.exec(url);
  return own?.[1] ?? url;
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
/** The nearest frame of a package or of the project at or above a node: who caused native work. */
const callerArea = (id: number): string => {
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const url = byId.get(at)?.callFrame.url ?? '';
    const where = area(url);
    if (url !== '' && where !== 'node:internals') return where;
  }
  return area(byId.get(id)?.callFrame.url ?? '');
};
const byCaller = new Map<string, number>();
const selfByFunction = new Map<string, number>();
const selfByArea = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const micros = profile.timeDeltas[i] ?? 0;
  if (!node) return;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') return;
  total += micros;
  const where = area(url);
  const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + micros);
  selfByArea.set(where, (selfByArea.get(where) ?? 0) + micros);
  const caller = callerArea(id);
  byCaller.set(caller, (byCaller.get(caller) ?? 0) + micros);
});
const show = (title: string, map: Map<string, number>, top: number) => {
  console.log(`\n${title}`);
  for (const [name, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1e6).toFixed(2).padStart(7)} s  ${name}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s busy`);
show('self time by area', selfByArea, 25);
show('time by the package or project directory that caused it (native and Node work included)', byCaller, 25);
show('self time by function', selfByFunction, Number(topArg ?? 40));
