/** Command-line checks shared by the benchmark scripts: a bad value ends the script with status 2 and a message naming it. */

/** Prints `bench: message` and exits with status 2. */
export function fail(bench: string, message: string): never {
  console.error(`${bench}: ${message}`);
  process.exit(2);
}

/** `text` as an integer >= 1, or exit naming `--name`. */
export function positiveInteger(bench: string, name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) fail(bench, `--${name} must be a positive integer but got ${JSON.stringify(text)}.`);
  return value;
}

/** A comma-separated list of integers >= 0 (`--seeds 0,1,2`), or exit. */
export function seedList(bench: string, text: string): number[] {
  const seeds = text.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || text.trim() === '') {
    fail(bench, `--seeds must be a comma-separated list of integers >= 0 but got ${JSON.stringify(text)}.`);
  }
  return seeds;
}

/** A number in the open interval (0, 1), or exit. */
export function openFraction(bench: string, name: string, text: string): number {
  const value = Number(text);
  if (!(value > 0 && value < 1)) fail(bench, `--${name} must be in (0, 1) but got ${JSON.stringify(text)}.`);
  return value;
}

/** A number > 0, or exit. */
export function positiveNumber(bench: string, name: string, text: string): number {
  const value = Number(text);
  if (!(value > 0 && Number.isFinite(value))) fail(bench, `--${name} must be a positive number but got ${JSON.stringify(text)}.`);
  return value;
}
