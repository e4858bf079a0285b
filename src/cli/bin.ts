#!/usr/bin/env node
/**
 * The `infobatch` command: checks that TensorFlow.js is installed before anything loads it (a
 * missing peer dependency is a message with the install line and exit code 2, not a stack trace),
 * then runs the CLI in ./main.js.
 */
import { exitWithError } from './exit.js';
import { VERSION, missingCliPeers, missingPeersMessage } from './package-info.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  console.log(VERSION);
} else {
  const missing = missingCliPeers();
  if (missing.length > 0) {
    process.stderr.write(missingPeersMessage(missing));
    process.exitCode = 2;
  } else {
    try {
      await import('./main.js');
    } catch (error) {
      // Loading failed (a broken tfjs install, say): a message and exit code, like any other error.
      exitWithError(error);
    }
  }
}
