import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs written with these recipes: every relative link must reach a file, every #anchor a heading.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = ['docs/guide.md', 'docs/cookbook.md', 'docs/architecture.md', 'docs/security.md', 'docs/versioning.md', 'examples/cookbook/README.md'];

/** The text outside fenced code blocks. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```$/gm, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

async function anchors(file: string): Promise<Set<string>> {
  const text = prose(await readFile(file, 'utf8'));
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe.each(DOCS)('%s', (doc) => {
  it('links only to files and headings that exist', async () => {
    const file = join(root, doc);
    const links = [...prose(await readFile(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    const broken: string[] = [];
    for (const link of links) {
      if (/^[a-z]+:/.test(link)) continue; // https:, mailto:
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? file : resolve(dirname(file), path);
      if (!existsSync(target)) broken.push(`${link}: no such file`);
      else if (anchor !== undefined && target.endsWith('.md') && !(await anchors(target)).has(anchor)) broken.push(`${link}: no such heading`);
    }
    expect(broken).toEqual([]);
  });
});

it('the guide names every package of the repository', async () => {
  const guide = await readFile(join(root, 'docs/guide.md'), 'utf8');
  const names = (await readdir(join(root, 'packages'))).map((dir) => `@tenant/${dir}`);
  expect(names.filter((name) => !guide.includes(`\`${name}\``))).toEqual([]);
});

it('the slugs follow GitHub', () => {
  expect(slug('1. One process')).toBe('1-one-process');
  expect(slug("The row-level plugin's limits")).toBe('the-row-level-plugins-limits');
  expect(slug('node:http')).toBe('nodehttp');
  expect(slug('Alerts (examples)')).toBe('alerts-examples');
});

// Names that are not ours: a fastify hook, a Node.js warning type, a placeholder in prose,
// the options of .changeset/config.json that versioning.md explains, the TypeScript options Nest's decorators need,
// a kysely schema method security.md names.
const FOREIGN = new Set(['onResponse', 'DeprecationWarning', 'verifiedClaims', 'updateInternalDependencies', 'onlyUpdatePeerDependentsWhenOutOfRange', 'experimentalDecorators', 'emitDecoratorMetadata', 'alterTable']);

/** The TypeScript sources of every package, and the recipes. */
async function sources(): Promise<string> {
  const dirs = (await readdir(join(root, 'packages'))).map((name) => join(root, 'packages', name, 'src'));
  dirs.push(join(root, 'examples/cookbook/src'));
  const files = (await Promise.all(dirs.map(async (dir) => (await readdir(dir, { recursive: true })).map((file) => join(dir, file))))).flat();
  return (await Promise.all(files.filter((file) => file.endsWith('.ts')).map((file) => readFile(file, 'utf8')))).join('\n');
}

it('names in code spans of the docs exist in the sources', async () => {
  const source = await sources();
  const unknown = new Set<string>();
  for (const doc of DOCS) {
    const text = prose(await readFile(join(root, doc), 'utf8'));
    for (const [, span] of text.matchAll(/`([^`\n]+)`/g)) {
      // camelCase and PascalCase identifiers (createTenancy, TenantError), not after a dot (reply.hijack)
      for (const [name] of span!.matchAll(/(?<![\w.])(?:[a-z][a-zA-Z0-9]*[A-Z]|[A-Z][a-z]+[A-Z])[a-zA-Z0-9]*/g)) {
        if (!FOREIGN.has(name) && !new RegExp(`\\b${name}\\b`).test(source)) unknown.add(`${doc}: ${name}`);
      }
    }
  }
  expect([...unknown]).toEqual([]);
});
