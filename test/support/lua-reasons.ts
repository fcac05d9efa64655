/**
 * Reads, from the Lua scripts' source, every value they write as a reason: the `reason` field of
 * a reply, a delivery or a history entry, and the reason arguments of the helpers that write one
 * (`skip`, `hold`, `setDelivery`, `endOffer`, `finish`, `endOnRequest`). Each value is what the
 * expression can evaluate to, with `*` standing for a value the source does not spell out
 * (`'offer_' .. offer.state` → `offer_*`).
 */

/** A reason value found in a script, with where. */
export interface FoundReason {
  readonly file: string;
  readonly value: string;
}

/** The helpers that write a reason, and which of their arguments (from 0) it is. */
const REASON_ARGUMENT: Readonly<Record<string, number>> = {
  skip: 0,
  skipDelivery: 0,
  hold: 0,
  setDelivery: 5,
  endOffer: 2,
  finish: 1,
  endOnRequest: 0,
};

/** Every reason value the source can write (comments removed first). */
export function reasonsIn(file: string, source: string): FoundReason[] {
  const code = source.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--[^\n]*/g, '');
  const expressions: string[] = [];
  for (const match of code.matchAll(/\b(?:reason|why)\s*=(?!=)|'reason',/g)) {
    if (inNameList(code, match.index)) continue;
    expressions.push(expressionAt(code, match.index + match[0].length));
  }
  for (const match of code.matchAll(/\b(\w+)\(/g)) {
    const index = REASON_ARGUMENT[match[1] ?? ''];
    if (index === undefined) continue;
    const argument = argumentsAt(code, match.index + match[0].length)[index];
    if (argument !== undefined) expressions.push(argument);
  }
  const values = new Set<string>();
  for (const expression of expressions) {
    for (const value of evaluate(tokens(expression))) values.add(value);
  }
  return [...values].map((value) => ({ file, value }));
}

/** True when `at` lies in a table of field names only (`{ 'actor', 'reason', 'detail' }`), not a field list. */
function inNameList(code: string, at: number): boolean {
  const open = code.lastIndexOf('{', at);
  const close = code.indexOf('}', at);
  return open >= 0 && close >= 0 && /^\s*('[^']*'\s*,?\s*)*$/.test(code.slice(open + 1, close));
}

/** The expression starting at `from`, up to a `,`, a closing bracket or a line end outside brackets. */
function expressionAt(code: string, from: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < code.length; i++) {
    const char = code[i] ?? '';
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if ('({['.includes(char)) {
      depth++;
    } else if (')}]'.includes(char)) {
      if (depth === 0) return code.slice(from, i);
      depth--;
    } else if ((char === ',' || char === '\n') && depth === 0) {
      return code.slice(from, i);
    }
  }
  return code.slice(from);
}

/** The arguments of the call whose `(` ends just before `from`. */
function argumentsAt(code: string, from: number): string[] {
  const args: string[] = [];
  let start = from;
  for (;;) {
    const argument = expressionAt(code.replaceAll('\n', ' '), start);
    args.push(argument);
    const end = start + argument.length;
    if (code[end] !== ',') return args;
    start = end + 1;
  }
}

type Token = { kind: 'string' | 'name' | 'op'; text: string };

function tokens(expression: string): Token[] {
  const found: Token[] = [];
  const pattern =
    /\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z_][\w.:]*)|(\.\.|==|~=|<=|>=|[-+*/#%<>()[\]{},]|\d+(?:\.\d+)?))/y;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(expression)) !== null) {
    if (match[1] !== undefined || match[2] !== undefined) {
      found.push({ kind: 'string', text: match[1] ?? match[2] ?? '' });
    } else if (match[3] !== undefined) {
      found.push({ kind: 'name', text: match[3] });
    } else {
      found.push({ kind: 'op', text: match[4] ?? '' });
    }
  }
  return found;
}

/**
 * The strings an expression can evaluate to: `a or b` either, `c and a` a, `a .. b` every join,
 * a literal itself, a comparison none (it is a boolean), anything else `*`.
 */
function evaluate(list: Token[]): string[] {
  let at = 0;
  const peek = () => list[at];
  const take = () => list[at++];
  const isOp = (text: string) => peek()?.kind === 'op' && peek()?.text === text;
  const isName = (text: string) => peek()?.kind === 'name' && peek()?.text === text;

  function or(): string[] {
    const values = new Set(and());
    while (isName('or')) {
      take();
      for (const value of and()) values.add(value);
    }
    return [...values];
  }
  function and(): string[] {
    let values = comparison();
    while (isName('and')) {
      take();
      values = comparison();
    }
    return values;
  }
  function comparison(): string[] {
    const values = concatenation();
    if (['==', '~=', '<', '>', '<=', '>='].some(isOp)) {
      take();
      concatenation();
      return [];
    }
    return values;
  }
  function concatenation(): string[] {
    let values = primary();
    while (isOp('..')) {
      take();
      const right = primary();
      values = values.flatMap((left) => right.map((value) => left + value));
    }
    return values;
  }
  function primary(): string[] {
    const token = take();
    if (token === undefined) return [];
    if (token.kind === 'string') return [token.text];
    if (token.kind === 'op' && token.text === '(') {
      const values = or();
      if (isOp(')')) take();
      return values;
    }
    if (token.kind === 'name' && token.text === 'not') {
      primary();
      return [];
    }
    // A name, a call, an index, a table or arithmetic: a value the source does not spell out.
    skipBrackets();
    while (['+', '-', '*', '/', '%'].some(isOp)) {
      take();
      primary();
    }
    return ['*'];
  }
  function skipBrackets(): void {
    while (isOp('(') || isOp('[') || isOp('{')) {
      let depth = 0;
      do {
        const token = take();
        if (token?.kind === 'op' && '([{'.includes(token.text)) depth++;
        if (token?.kind === 'op' && ')]}'.includes(token.text)) depth--;
      } while (depth > 0 && at < list.length);
      if (peek()?.kind === 'name' && peek()?.text.startsWith('.')) take();
    }
  }
  return or();
}
