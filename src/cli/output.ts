/**
 * How commands print: aligned tables and key/value blocks for people, JSON for scripts. Every
 * command's result goes to stdout; errors go to stderr through `main.ts`.
 */

/** Where a command writes its result (stdout in the real program). */
export interface Output {
  line(text?: string): void;
}

export const stdout: Output = {
  line: (text = '') => {
    process.stdout.write(`${text}\n`);
  },
};

/** Prints `value` as indented JSON, the `--json` form of every command. */
export function printJson(out: Output, value: unknown): void {
  out.line(JSON.stringify(value, null, 2));
}

/** Columns padded to their widest cell; the last column is not padded. Headers in capitals. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers.map((header) => header.toUpperCase()), ...rows.map((row) => row.map(oneLine))];
  const widths = headers.map((_header, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function printTable(
  out: Output,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): void {
  for (const line of formatTable(headers, rows)) out.line(line);
}

/** `name  value` pairs with the names aligned; pairs whose value is undefined are left out. */
export function printDetails(out: Output, pairs: readonly (readonly [string, string | undefined])[]): void {
  const shown = pairs.filter((pair): pair is readonly [string, string] => pair[1] !== undefined);
  const width = Math.max(0, ...shown.map(([name]) => name.length));
  for (const [name, value] of shown) out.line(`${`${name}:`.padEnd(width + 1)}  ${oneLine(value)}`);
}

/** An instant as ISO-8601 UTC to the second (what people compare; JSON keeps milliseconds). */
export function instant(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Control characters would break a table row (or a terminal): shown escaped. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (char) => JSON.stringify(char).slice(1, -1));
}
