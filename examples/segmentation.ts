/**
 * Example: a small U-Net segmenting generated shapes (src/data/shapes.ts), judged by
 * mean IoU; full data, then InfoBatch, same seed.
 *
 * Run: `npx tsx examples/segmentation.ts [--seed N] [--epochs N] [--train-limit N] [--out DIR]`
 */
import { runExample } from './run-example.js';

await runExample('segmentation');
