import { createServer } from 'node:http';
import { serveDemo } from '@tenant/example-shared';
import { createApp } from './app.js';

// Listens on 127.0.0.1 and $PORT (3000), prints curl examples, stops on Ctrl-C.
serveDemo('express', createServer(createApp()));
