import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MAX_BODY_BYTES } from '@tenant/example-shared';
import { AppModule } from './app.module.js';

/** The platforms the example runs on, with the same module and controllers. */
export type Platform = 'express' | 'fastify';

/** Builds the demo application on `platform` (not listening yet). */
export async function createApp(platform: Platform, options: { logger?: false } = {}): Promise<INestApplication> {
  if (platform === 'fastify') {
    return NestFactory.create(AppModule, new FastifyAdapter({ bodyLimit: MAX_BODY_BYTES }), options);
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), options);
  app.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  return app;
}
