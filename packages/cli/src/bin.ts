#!/usr/bin/env node
import { run } from './cli.js';

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Every connection is closed by run(); should a driver keep a handle open, do not hang a script.
setTimeout(() => process.exit(code), 2000).unref();
