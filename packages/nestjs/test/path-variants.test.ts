import { Controller, Get, Post } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdapterTestStore, parseRateLimit } from '@tenant/adapter-testkit';
import { RequirePolicy, TenancyModule, TenantCost } from '../src/index.js';
import { PLATFORMS, sendRaw, startNest, type StartedApp } from './platforms.js';

// Policy and cost are read from the route Nest matched (handler metadata),
// never from the path: whatever spelling reaches the handler was checked and
// charged, and a spelling that reaches no handler is a 404.

const apps: StartedApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

let served = 0;

@Controller('chat')
class ChatController {
  @Get()
  @RequirePolicy({ models: 'large' })
  @TenantCost({ requests: 5 })
  chat() {
    served += 1;
    return { ok: true };
  }

  @Post()
  @RequirePolicy({ models: 'large' })
  @TenantCost({ requests: 5 })
  send() {
    served += 1;
    return { ok: true };
  }
}

@Controller('admin/reports')
class AdminController {
  @Get(':id')
  @RequirePolicy({ features: 'admin' })
  report() {
    served += 1;
    return { ok: true };
  }
}

@Controller('open')
class OpenController {
  @Get()
  open() {
    return { ok: true };
  }
}

/** Spellings of `/chat` and `/admin/reports/1`: case, trailing and duplicate slashes, percent-encoding, dot segments, parameters. */
const CHAT_VARIANTS = [
  '/chat',
  '/Chat',
  '/CHAT',
  '/chat/',
  '//chat',
  '/chat//',
  '///chat',
  '/%63hat',
  '/ch%61t',
  '/%43HAT',
  '/chat%2F',
  '/chat%2f',
  '/%2Fchat',
  '/./chat',
  '/x/../chat',
  '/chat/.',
  '/chat/x/..',
  '/chat;x=1',
  '/chat%00',
  '/chat%20',
  '/chat?model=small',
  '/chat/?',
  '/ch%2561t',
];
const ADMIN_VARIANTS = ['/admin/reports/1', '/Admin/Reports/1', '/admin//reports/1', '/admin/reports/1/', '/%61dmin/reports/1', '/admin%2Freports/1', '/admin/x/../reports/1', '/ADMIN/REPORTS/1/'];

describe.each(PLATFORMS)('path spellings on %s', (platform) => {
  async function start() {
    const store = createAdapterTestStore();
    await store.create({ id: 'umbrella', policy: { models: ['small'], features: ['notes'] } });
    const app = await startNest(platform, { imports: [TenancyModule.forRoot({ store })], controllers: [ChatController, AdminController] });
    apps.push(app);
    return app.url;
  }

  it('no spelling of a route reaches its handler without the route policy', async () => {
    const url = await start();
    const before = served;
    const routed: string[] = [];
    for (const path of [...CHAT_VARIANTS, ...ADMIN_VARIANTS]) {
      for (const method of ['GET', 'POST']) {
        const res = await sendRaw(url, { path, method, headers: { 'x-tenant-id': 'umbrella' } });
        expect([403, 404, 400], `${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`).toContain(res.status);
        if (res.status === 403) {
          expect(res.text, `${method} ${path}`).toContain('"policy_denied"');
          routed.push(`${method} ${path}`);
        }
      }
    }
    expect(served, 'handlers run for a tenant the policy refuses').toBe(before);
    // the canonical paths and, on each platform, other spellings its router sends to the same handler were all checked
    expect(routed).toContain('GET /chat');
    expect(routed).toContain('POST /chat');
    expect(routed).toContain('GET /admin/reports/1');
    // express routes case and trailing-slash spellings, fastify percent-encoded ones: others than the canonical three
    expect(routed.filter((r) => !['GET /chat', 'POST /chat', 'GET /admin/reports/1'].includes(r)).length).toBeGreaterThan(0);
  });

  it('the options see the route Nest matched (request.route) and the canonical path', async () => {
    const seen: string[] = [];
    const store = createAdapterTestStore();
    await store.create({ id: 'umbrella', policy: { models: ['small'] } });
    const app = await startNest(platform, {
      imports: [
        TenancyModule.forRoot({
          store,
          policyRequest: (request) => {
            seen.push(`${request.route ?? '-'} ${request.path}`);
            return request.route === '/open' ? { models: 'large' } : undefined;
          },
        }),
      ],
      controllers: [OpenController],
    });
    apps.push(app);
    const statuses: number[] = [];
    for (const path of ['/open', '/Open', '/open/', '/%6Fpen']) statuses.push((await sendRaw(app.url, { path, headers: { 'x-tenant-id': 'umbrella' } })).status);
    // every spelling either reached the route, and was refused by the rule on its route, or reached nothing
    expect(statuses.every((status) => status === 403 || status === 404)).toBe(true);
    expect(statuses[0]).toBe(403);
    expect(seen.length).toBe(statuses.filter((status) => status === 403).length);
    for (const entry of seen) expect(entry.startsWith('/open ')).toBe(true);
  });

  it('every spelling that reaches the handler is charged the route cost', async () => {
    const url = await start();
    let remaining = 100;
    let routedVariants = 0;
    for (const path of CHAT_VARIANTS) {
      const before = served;
      // acme has no allow-list: the policy passes, the quota counts
      const res = await sendRaw(url, { path, headers: { 'x-tenant-id': 'acme' } });
      if (served > before) {
        routedVariants += 1;
        remaining -= 5;
        expect(res.status, path).toBe(200);
        expect(parseRateLimit(res.headers['ratelimit'], 'requests')?.r, path).toBe(remaining);
      } else {
        expect([400, 404], `${path}: ${res.status}`).toContain(res.status);
      }
    }
    expect(routedVariants).toBeGreaterThan(1);
  });
});
