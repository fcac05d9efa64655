import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The repository stands on its own: no file sends a reader to a document outside it, and the
 * links between its own documents lead somewhere.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every file git tracks, or every file under the root when git is not there to ask. */
function trackedFiles(): string[] {
  try {
    return (
      execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
        .split('\0')
        // Only regular files: a tracked symlink may point at a folder, or at nothing in a clone.
        .filter((file) => file !== '' && existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).isFile())
    );
  } catch {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(join(ROOT, dir))) {
        if (name === '.git' || name === 'node_modules') continue;
        const path = dir === '' ? name : `${dir}/${name}`;
        if (statSync(join(ROOT, path)).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk('');
    return files;
  }
}

/** The text files among them (a NUL byte marks a binary file). */
function textFiles(): { file: string; text: string }[] {
  return trackedFiles().flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return text.includes('\u0000') ? [] : [{ file, text }];
  });
}

const inside = (path: string): boolean => {
  const rel = relative(ROOT, path);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
};

const lineOf = (text: string, index: number): number => text.slice(0, index).split('\n').length;
/** `file:line: the line`, for a finding at `index`. */
const where = (file: string, text: string, index: number): string =>
  `${file}:${lineOf(text, index)}: ${(text.split('\n')[lineOf(text, index) - 1] ?? '').trim()}`;

/** Markdown links and images with a relative target: `[text](target)`, `![alt](target "title")`. */
const MARKDOWN_LINK = /!?\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\s*\)/g;
const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|#|\/\/)/i;

/** Relative paths that climb (`../x`, `../../x`), in any kind of file. */
const CLIMBING_PATH = /(?<![\w.])(?:\.\.\/)+[\w.@/-]*/g;
/** Absolute paths into a machine's own folders, which no clone has. */
const MACHINE_PATH = /(?<![\w.:/-])\/(?:work|home|Users|root|mnt)\/[\w.@/-]*/g;

/** Design notes kept outside the repository, named by file. */
const OUTSIDE_DOCUMENTS = ['DESIGN', 'CONVENTIONS'].map((name) => new RegExp(`\\b${name}\\.md\\b`, 'g'));
/** The API reference is `docs/API.md`; the name alone may mean a file somewhere else. */
const API_REFERENCE = /(?<![\w/.-])API\.md\b/g;

const files = textFiles();
const documents = files.filter(({ file }) => file.endsWith('.md'));

describe('the repository stands on its own', () => {
  it('no file names a design document kept outside it', () => {
    const found = files.flatMap(({ file, text }) =>
      OUTSIDE_DOCUMENTS.flatMap((pattern) =>
        [...text.matchAll(pattern)].map((match) => where(file, text, match.index)),
      ),
    );
    expect(found).toEqual([]);
  });

  it('no file cites the API reference but as docs/API.md, or by a link that resolves to it', () => {
    const reference = resolve(ROOT, 'docs/API.md');
    const found = files.flatMap(({ file, text }) => {
      // A markdown link whose target is the reference itself is fine, whatever its text says.
      const unlinked = file.endsWith('.md')
        ? text.replace(MARKDOWN_LINK, (link, _label: string, target: string) =>
            !EXTERNAL.test(target) && resolve(ROOT, dirname(file), target.split('#')[0] ?? '') === reference
              ? ' '.repeat(link.length)
              : link,
          )
        : text;
      return [...unlinked.matchAll(API_REFERENCE)]
        .filter((match) => !unlinked.slice(0, match.index).endsWith('docs/'))
        .map((match) => where(file, text, match.index));
    });
    expect(found).toEqual([]);
  });

  it('no path in any file leads out of the repository', () => {
    const found = files.flatMap(({ file, text }) => [
      ...[...text.matchAll(CLIMBING_PATH)]
        .filter((match) => !inside(resolve(ROOT, dirname(file), match[0])))
        .map((match) => where(file, text, match.index)),
      ...[...text.matchAll(MACHINE_PATH)].map((match) => where(file, text, match.index)),
    ]);
    expect(found).toEqual([]);
  });

  it('every relative link in a markdown document leads to a file of the repository', () => {
    const found = documents.flatMap(({ file, text }) =>
      [...text.matchAll(MARKDOWN_LINK)].flatMap((match) => {
        const target = (match[2] ?? '').split('#')[0] ?? '';
        if (EXTERNAL.test(match[2] ?? '') || target === '') return [];
        const path = resolve(ROOT, dirname(file), decodeURIComponent(target));
        return inside(path) && existsSync(path) ? [] : [where(file, text, match.index)];
      }),
    );
    expect(found).toEqual([]);
  });

  it('the checks see the documents they are about', () => {
    const names = new Set(documents.map(({ file }) => file));
    for (const document of ['README.md', 'docs/API.md', 'docs/ARCHITECTURE.md', 'docs/SECURITY.md']) {
      expect(names, document).toContain(document);
    }
  });
});
