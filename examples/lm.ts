/**
 * Example: a character-level transformer pretrained briefly on tiny-shakespeare, then
 * fine-tuned on the Alpaca seed tasks (loss on the response only), judged by held-out
 * perplexity; full data, then InfoBatch, same seed.
 *
 * Run: `npx tsx examples/lm.ts [--seed N] [--epochs N] [--train-limit N] [--out DIR]`
 */
import { runExample } from './run-example.js';

await runExample('lm');
