import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFile(new URL(path, import.meta.url), 'utf8');

describe('docs/writing-an-adapter.md', () => {
  it('quotes the tested node:http adapter exactly', async () => {
    const doc = await read('../../../docs/writing-an-adapter.md');
    const marker = '<!-- code: packages/adapter-testkit/test/node-http-adapter.ts -->\n```ts\n';
    const start = doc.indexOf(marker);
    expect(start, 'the code marker is in the doc').toBeGreaterThan(-1);
    const end = doc.indexOf('```\n', start + marker.length);
    expect(doc.slice(start + marker.length, end)).toBe(await read('./node-http-adapter.ts'));
  });

  it('quotes the tested fetch adapter exactly', async () => {
    const doc = await read('../../../docs/writing-an-adapter.md');
    const marker = '<!-- code: packages/adapter-testkit/test/fetch-adapter.ts -->\n```ts\n';
    const start = doc.indexOf(marker);
    expect(start, 'the code marker is in the doc').toBeGreaterThan(-1);
    const end = doc.indexOf('```\n', start + marker.length);
    expect(doc.slice(start + marker.length, end)).toBe(await read('./fetch-adapter.ts'));
  });
});
