/**
 * Example: masked-autoencoder pretraining on Fashion-MNIST (7x7 patches, 75% masked),
 * judged by a linear probe on the frozen encoder; full data, then InfoBatch, same seed.
 *
 * Run: `npx tsx examples/mae.ts [--seed N] [--epochs N] [--train-limit N] [--out DIR]`
 */
import { runExample } from './run-example.js';

await runExample('mae');
