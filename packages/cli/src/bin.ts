#!/usr/bin/env node
import { run } from './cli.js';

// `tenant export | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Every connection is closed by run(); should a driver keep a handle open, do not hang a script.
setTimeout(() => process.exit(code), 2000).unref();
