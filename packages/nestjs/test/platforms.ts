import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import corePackage from '@nestjs/core/package.json' with { type: 'json' };

/** The major of NestJS the suite runs on: the development one, or the one compat/nest<N> installs. */
export const NEST_MAJOR = Number(corePackage.version.split('.')[0]);

/** The two platforms every test runs on. */
export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

export interface StartOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly controllers?: Type[];
  readonly providers?: ModuleMetadata['providers'];
  /** Hand every request body to the route as the raw stream (no JSON parsing). */
  readonly rawBodies?: boolean;
  /** Middleware the application module applies to every route (in its own configure()). */
  readonly middleware?: Type[];
  /** Before init: global filters, interceptors... */
  readonly configure?: (app: INestApplication) => void;
}

export interface StartedApp {
  readonly app: INestApplication;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a real Nest application on `platform`, listening on 127.0.0.1 and a free port. */
export async function startNest(platform: Platform, options: StartOptions): Promise<StartedApp> {
  @Module({ imports: options.imports ?? [], controllers: options.controllers ?? [], providers: options.providers ?? [] })
  class AppModule implements NestModule {
    configure(consumer: MiddlewareConsumer) {
      if (options.middleware !== undefined) consumer.apply(...options.middleware).forRoutes({ path: '*', method: RequestMethod.ALL });
    }
  }
  const raw = options.rawBodies === true;
  let app: INestApplication;
  if (platform === 'express') {
    app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, bodyParser: !raw });
  } else {
    const adapter = new FastifyAdapter();
    if (raw) {
      const fastify = adapter.getInstance();
      fastify.removeAllContentTypeParsers();
      fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    }
    app = await NestFactory.create(AppModule, adapter, { logger: false, bodyParser: !raw });
  }
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export type { DynamicModule };

/** One request with the target sent exactly as given (no URL normalisation): for path spellings. */
export function sendRaw(
  baseUrl: string,
  options: { readonly path: string; readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string },
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const { port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: Number(port), path: options.path, method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${options.path}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
