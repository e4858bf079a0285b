/**
 * What the CLI reads from its own package.json (version, peer dependency ranges), and the check
 * that TensorFlow.js is installed, made by the commands that train before they load it. Imports
 * nothing from tfjs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface PackageJson {
  readonly version: string;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

// The same relative place from src/cli/ and dist/cli/.
const pkg = require('../../package.json') as PackageJson;

/** The package's version. */
export const VERSION: string = pkg.version;

/** The tfjs packages the CLI loads (`@tensorflow/tfjs-node` replaces the wasm backend when installed). */
const CLI_PEERS = ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] as const;

function installed(name: string): boolean {
  // package.json first (loads nothing); the bare name for packages whose exports hide package.json.
  for (const specifier of [`${name}/package.json`, name]) {
    try {
      require.resolve(specifier);
      return true;
    } catch {
      // try the next form
    }
  }
  return false;
}

/**
 * The tfjs packages the CLI needs that cannot be resolved from here, each with the range of
 * `peerDependencies` (as `name@range`); empty when everything is installed.
 */
export function missingCliPeers(): string[] {
  const hasNode = installed('@tensorflow/tfjs-node');
  return CLI_PEERS.filter((name) => !installed(name) && !(hasNode && name === '@tensorflow/tfjs-backend-wasm')).map((name) => {
    const range = pkg.peerDependencies?.[name];
    return range === undefined ? name : `${name}@${range}`;
  });
}

/**
 * The message shown when tfjs packages are missing: what is missing and the exact install line.
 * @param command - the command that needs them (`demo`, `bench`), named in the message.
 */
export function missingPeersMessage(missing: readonly string[], command?: string): string {
  const names = missing.map((spec) => spec.replace(/@[^@/]*$/, ''));
  return [
    `infobatch${command === undefined ? ': the CLI trains' : ` ${command} trains`} with TensorFlow.js, but ${names.join(' and ')} ${names.length === 1 ? 'is' : 'are'} not installed.`,
    'Install them next to infobatch (they are peer dependencies, so you choose the version):',
    '',
    `  npm install ${missing.map((spec) => `"${spec}"`).join(' ')}`,
    '',
  ].join('\n');
}
