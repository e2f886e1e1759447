import { createServer } from 'node:http';
import { describeExampleSmoke, listen } from '@tenant/example-shared/smoke';
import { createApp } from '../src/app.js';

describeExampleSmoke('koa example', () => listen(createServer(createApp().callback())), { adapter: true });
