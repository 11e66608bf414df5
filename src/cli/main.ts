#!/usr/bin/env node
// The `v2o` executable.
import { main } from './program.js';

// `v2o plan … --json | head`: a reader that closes early is not an error worth a stack trace.
// The journal is unaffected: a run records every step before it prints about it.
for (const out of [process.stdout, process.stderr]) {
  out.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv);
