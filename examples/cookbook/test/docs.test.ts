import { readFile, readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// The guide and the cookbook quote these files: a `<!-- code: <path from the repository root> -->`
// line, then a fenced block that must be the file exactly, so the docs cannot drift from tested code.
const root = new URL('../../../', import.meta.url);
const DOCS = ['docs/guide.md', 'docs/cookbook.md', 'docs/security.md'];
const MARKER = /<!-- code: (\S+) -->\n```ts\n/g;

async function quotes(doc: string): Promise<{ path: string; quoted: string }[]> {
  const text = await readFile(new URL(doc, root), 'utf8');
  return [...text.matchAll(MARKER)].map((match) => {
    const start = match.index + match[0].length;
    return { path: match[1]!, quoted: text.slice(start, text.indexOf('```\n', start)) };
  });
}

describe.each(DOCS)('%s', (doc) => {
  it('quotes each tested file exactly', async () => {
    const found = await quotes(doc);
    expect(found.length, 'the doc quotes at least one file').toBeGreaterThan(0);
    for (const { path, quoted } of found) expect(quoted, path).toBe(await readFile(new URL(path, root), 'utf8'));
  });
});

it('every recipe in src/ is quoted by the docs', async () => {
  const quoted = new Set((await Promise.all(DOCS.map(quotes))).flat().map((q) => q.path));
  const files = (await readdir(new URL('../src/', import.meta.url))).map((name) => `examples/cookbook/src/${name}`);
  expect(files.filter((file) => !quoted.has(file))).toEqual([]);
});
