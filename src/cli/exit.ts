/**
 * How the CLI ends on an error: a message without a stack trace for what the user can fix, and
 * an exit code (2 for usage errors, 1 for everything else).
 */
import { CommanderError } from 'commander';
import { InfoBatchError, type InfoBatchErrorCode } from '../core/errors.js';

/** Exit code of a usage error: a bad option, argument or value. */
export const EXIT_USAGE = 2;
/** Exit code of any other failure (bad data, I/O, a bug). */
export const EXIT_FAILURE = 1;

/** InfoBatchError codes that mean the command line was wrong. */
const USAGE_CODES: ReadonlySet<InfoBatchErrorCode> = new Set(['INVALID_OPTION', 'INVALID_TYPE', 'OUT_OF_RANGE', 'UNSUPPORTED']);

/**
 * Library messages name JavaScript options; on the command line the user knows them as flags.
 * Each pair maps a library phrasing to the CLI's words.
 */
const CLI_WORDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/pass \{ download: true \}(?: \(optionally with cacheDir\))?/g, 'add --download'],
  [/\{ download: true \}/g, '--download'],
  [/Pass the directory that holds/g, 'Pass --data-dir with the folder that holds'],
];

/** `message` with library option names replaced by the CLI's flags. */
export function inCliWords(message: string): string {
  return CLI_WORDS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), message);
}

/** A Node system error (fs, net): it has a string `code` such as 'ENOENT' and a `syscall`. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * What to print and which exit code to use for an error that ended a command. `message` is
 * undefined when the error has already been printed (commander's usage errors, help, version).
 */
export function describeCliError(error: unknown): { message: string | undefined; exitCode: number } {
  if (error instanceof CommanderError) {
    // Help and version end with exitCode 0; every other commander error is a usage error, already printed.
    return { message: undefined, exitCode: error.exitCode === 0 ? 0 : EXIT_USAGE };
  }
  if (error instanceof InfoBatchError) {
    return { message: `infobatch: ${inCliWords(error.message)} [${error.code}]`, exitCode: USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE };
  }
  if (isSystemError(error)) {
    const what = error.path === undefined ? '' : ` ${error.path}`;
    const reason = error.code === 'ENOENT' ? 'no such file or folder' : error.code === 'EACCES' || error.code === 'EPERM' ? 'permission denied' : error.message;
    return { message: `infobatch: cannot ${error.syscall}${what}: ${reason} (${error.code}).`, exitCode: EXIT_FAILURE };
  }
  if (error instanceof SyntaxError) {
    return { message: `infobatch: ${error.message}`, exitCode: EXIT_FAILURE };
  }
  // Anything else is a bug: keep the stack for the report.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { message: `infobatch: unexpected error (please report it with the command line):\n${detail}`, exitCode: EXIT_FAILURE };
}

/** Prints `error` as {@link describeCliError} says and sets the process exit code. */
export function exitWithError(error: unknown): void {
  const { message, exitCode } = describeCliError(error);
  if (message !== undefined) console.error(message);
  process.exitCode = exitCode;
}
