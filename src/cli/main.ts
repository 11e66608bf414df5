#!/usr/bin/env node
// The `v2o` executable.
import { main } from './program.js';

process.exitCode = await main(process.argv);
