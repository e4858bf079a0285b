/**
 * Example: DDPM noise prediction on MNIST 14x14, judged by the held-out denoising
 * error; writes a PNG grid of samples per run; full data, then InfoBatch, same seed.
 *
 * Run: `npx tsx examples/diffusion.ts [--seed N] [--epochs N] [--train-limit N] [--out DIR]`
 */
import { runExample } from './run-example.js';

await runExample('diffusion');
