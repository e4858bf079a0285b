import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLmTask, encodeChars, formatExample, LM_VOCAB } from '../../../src/experiments/tasks/lm.js';
import { runTaskTraining } from '../../../src/experiments/tasks/run-task.js';
import { selectBackend } from '../../../src/tfjs/backend.js';
import { DATA_ROOT, expectNoLeak, expectSoundRun, hasData } from './helpers.js';

let backend: string;
beforeAll(async () => {
  backend = await selectBackend();
});

describe('LM formatting', () => {
  it('encodes newline and printable ASCII, anything else as ?', () => {
    expect(LM_VOCAB).toHaveLength(96);
    expect(Array.from(encodeChars('\nA ~\t’'))).toEqual([0, 34, 1, 95, 1, LM_VOCAB.indexOf('?')]);
  });

  it('formats instruction, input and response, and keeps the response start when cutting', () => {
    const short = formatExample({ instruction: 'Add.', input: '1 2', output: '3' }, 64);
    const text = 'Instruction: Add.\nInput: 1 2\nResponse: 3\n';
    expect(short.promptLength).toBe('Instruction: Add.\nInput: 1 2\nResponse: '.length);
    expect(short.responseLength).toBe(2);
    expect(Array.from(short.tokens.subarray(0, text.length))).toEqual(Array.from(encodeChars(text)));
    expect(formatExample({ instruction: 'Hi.', input: '', output: 'Yo' }, 32).promptLength).toBe('Instruction: Hi.\nResponse: '.length);
    // 61 characters: half the window for the response, the prompt cut before '\nResponse: '.
    const long = formatExample({ instruction: 'x'.repeat(200), input: '', output: 'y'.repeat(200) }, 61);
    expect(long.promptLength + long.responseLength).toBe(61);
    expect(long.responseLength).toBe(30);
    const decoded = Array.from(long.tokens, (id) => LM_VOCAB[id]).join('');
    expect(decoded).toBe(`Instruction: ${'x'.repeat(7)}\nResponse: ${'y'.repeat(30)}`);
  });
});

describe.skipIf(!hasData('lm', ['tiny-shakespeare', 'stanford-alpaca-seed-tasks']))('LM task (char transformer, Alpaca fine-tuning)', () => {
  it('pretrains, fine-tunes with InfoBatch on response tokens only: finite perplexity, embedding (gather) gradients on the selected backend, no tensor left behind', async () => {
    expect(backend).toBeTypeOf('string');
    const task = createLmTask({ context: 32, pretrainSteps: 4, pretrainBatch: 4 });
    const before = tf.memory().numTensors;
    const data = await task.load({ dataDir: DATA_ROOT, trainLimit: 48, testLimit: 8 });
    expect(data.numTrain).toBe(48);
    expect(data.train.x.shape).toEqual([48, 32]);
    expect(data.train.y.shape).toEqual([48, 32, 2]);
    // The response mask: every sequence has response tokens, and never on the first (prompt) positions.
    const targets = (await data.train.y.array()) as number[][][];
    for (const row of targets) {
      expect(row.some(([, m]) => m === 1)).toBe(true);
      expect(row[0]![1]).toBe(0);
    }
    const options = { label: 'infobatch', policy: { name: 'infobatch' }, seed: 0, epochs: 3, batchSize: 8, learningRate: 1e-3 } as const;
    const first = await expectNoLeak(() => runTaskTraining(task, data, options));
    expectSoundRun(first.result, 3, true);
    expect(first.evaluation.metric).toMatchObject({ name: 'held-out response perplexity', higherIsBetter: false });
    // Perplexity = exp(loss), between 1 and roughly the vocabulary size at this stage.
    expect(first.result.final.testAccuracy).toBeCloseTo(Math.exp(first.result.final.testLoss), 6);
    expect(first.result.final.testAccuracy).toBeGreaterThan(1);
    expect(first.result.final.testAccuracy).toBeLessThan(200);
    expect(first.result.epochs[2]!.trainLoss).toBeLessThan(first.result.epochs[0]!.trainLoss);
    // The pretrained weights are cached per seed: the second run skips pretraining and starts from the same model.
    const second = await runTaskTraining(task, data, { ...options, label: 'full', policy: { name: 'full' } });
    expect(second.result.epochs[0]!.testAccuracy).toBe(first.result.epochs[0]!.testAccuracy);
    data.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
