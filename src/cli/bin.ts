#!/usr/bin/env node
/**
 * The `infobatch` command. `--help`, `--version` and `report` work without TensorFlow.js; the
 * commands that train (`demo`, `bench`) check that it is installed before anything loads it (a
 * missing peer dependency is a message with the install line and exit code 2, not a stack trace).
 */
import { exitWithError } from './exit.js';

try {
  await import('./main.js');
} catch (error) {
  // Loading failed (a broken install, say): a message and exit code, like any other error.
  exitWithError(error);
}
