// Rewrites every `<!-- code: <path> -->` block of docs/guide.md, docs/cookbook.md and docs/security.md
// with the current content of <path>. `pnpm --filter @tenant/example-cookbook sync-docs`
// after editing a recipe; test/docs.test.ts fails until the docs match.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
for (const doc of ['docs/guide.md', 'docs/cookbook.md', 'docs/security.md']) {
  const url = new URL(doc, root);
  const text = readFileSync(url, 'utf8');
  const synced = text.replace(/(<!-- code: (\S+) -->\n```ts\n)[\s\S]*?```\n/g, (_all, head, path) => `${head}${readFileSync(new URL(path, root), 'utf8')}\`\`\`\n`);
  if (synced !== text) writeFileSync(url, synced);
  console.log(`${doc}: ${synced === text ? 'up to date' : 'updated'}`);
}
