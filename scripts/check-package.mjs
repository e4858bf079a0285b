#!/usr/bin/env node
// Checks the package as it would be published: a clean build, `npm pack` into a temporary folder,
// then publint (strict: warnings fail) and Are The Types Wrong (profile esm-only: the package is
// ESM; CommonJS users require() it on Node >= 20.19, which test/package/packed.test.ts checks).
//
//   npm run check:package
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (file, args) => execFileSync(file.endsWith('.mjs') ? process.execPath : file, file.endsWith('.mjs') ? [file, ...args] : args, { cwd: root, stdio: 'inherit' });
const npm = (args) => execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const dir = mkdtempSync(join(tmpdir(), 'infobatch-pack-'));
try {
  run(join(root, 'scripts', 'clean-build.mjs'), []);
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir]));
  const tarball = join(dir, packed.filename);
  console.log(`check:package: ${packed.filename}, ${packed.entryCount} files, ${(packed.size / 1e6).toFixed(2)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
  run(bin('publint'), ['run', tarball, '--strict']);
  run(bin('attw'), [tarball, '--profile', 'esm-only']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
