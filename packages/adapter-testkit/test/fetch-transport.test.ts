import { describe, expect, it } from 'vitest';
import { listenFetch, sendFetchRequest, sendRequest } from '../src/index.js';

describe('sendFetchRequest (in process)', () => {
  it('builds the Request as a server would: host header in the URL, headers, method, streamed body', async () => {
    let seen: { url: string; method: string; header: string | null; body: string } | undefined;
    const res = await sendFetchRequest(
      async (request) => {
        seen = { url: request.url, method: request.method, header: request.headers.get('x-a'), body: await request.text() };
        const headers = new Headers({ 'x-b': '1' });
        headers.append('set-cookie', 'a=1');
        headers.append('set-cookie', 'b=2');
        return new Response('{"ok":true}', { status: 201, headers });
      },
      {
        method: 'POST',
        path: '/p?q=1',
        headers: { host: 'acme.example.test:8080', 'x-a': ['one', 'two'] },
        body: (async function* () {
          yield 'he';
          yield Buffer.from('llo');
        })(),
      },
    );
    expect(seen).toEqual({ url: 'http://acme.example.test:8080/p?q=1', method: 'POST', header: 'one, two', body: 'hello' });
    expect(res.status).toBe(201);
    expect(res.headers['x-b']).toBe('1');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.json()).toEqual({ ok: true });
  });

  it('answers 500 for a handler that throws, as runtimes do, and fails on what is not a Response', async () => {
    const thrown = await sendFetchRequest(() => {
      throw new Error('boom');
    });
    expect(thrown.status).toBe(500);
    expect(thrown.text()).toContain('boom');
    await expect(sendFetchRequest(() => 'nope' as never, { path: '/x' })).rejects.toThrow(/GET \/x: the fetch function did not return a Response/);
  });

  it('rejects after timeoutMs, naming the request', async () => {
    await expect(sendFetchRequest(() => new Promise<Response>(() => undefined), { path: '/slow', timeoutMs: 20 })).rejects.toThrow(/GET \/slow took longer than 20 ms/);
  });
});

describe('listenFetch (over HTTP)', () => {
  it('serves a fetch function: request bridged with its body, response streamed with its headers', async () => {
    const server = await listenFetch(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/boom') throw new Error('boom');
      const body = request.method === 'POST' ? await request.text() : '';
      let i = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i === 3) controller.close();
          else controller.enqueue(new TextEncoder().encode(`${(i += 1)}`));
        },
      });
      const headers = new Headers({ 'x-host': request.headers.get('host') ?? '', 'x-body': body });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response(stream, { headers });
    });
    try {
      const res = await sendRequest(server.url, { method: 'POST', path: '/x', headers: { host: 'shop.test' }, body: 'payload' });
      expect(res.status).toBe(200);
      expect(res.text()).toBe('123');
      expect(res.headers['x-host']).toBe('shop.test');
      expect(res.headers['x-body']).toBe('payload');
      expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      expect((await sendRequest(server.url, { path: '/boom' })).status).toBe(500);
    } finally {
      await server.close();
    }
  });
});
