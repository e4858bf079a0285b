import { describe, expect, it } from 'vitest';
import { InfoBatchError } from '../../src/core/errors.js';
import { parseAlpacaSeedTasks } from '../../src/data/index.js';

const task = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `seed_task_${id}`,
    name: `task_${id}`,
    instruction: `Do thing ${id}.`,
    instances: [{ input: id === 0 ? '' : 'in', output: `out ${id}` }],
    is_classification: id === 1,
    ...extra,
  });

describe('parseAlpacaSeedTasks', () => {
  it('parses one record per instance with the file field names', () => {
    const recs = parseAlpacaSeedTasks(`${task(0)}\n${task(1)}\n`);
    expect(recs).toEqual([
      { id: 'seed_task_0', name: 'task_0', instruction: 'Do thing 0.', input: '', output: 'out 0', isClassification: false },
      { id: 'seed_task_1', name: 'task_1', instruction: 'Do thing 1.', input: 'in', output: 'out 1', isClassification: true },
    ]);
    const two = task(2, { instances: [{ input: 'a', output: 'b' }, { input: 'c', output: 'd' }] });
    expect(parseAlpacaSeedTasks(two).map((r) => r.output)).toEqual(['b', 'd']);
  });

  it('names the line of malformed JSON', () => {
    try {
      parseAlpacaSeedTasks(`${task(0)}\n{"id": `, { source: 'seed.jsonl' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InfoBatchError);
      expect((e as InfoBatchError).code).toBe('INVALID_DATA');
      expect((e as Error).message).toMatch(/seed\.jsonl line 2 .*does not parse/);
    }
  });

  it('rejects missing or mistyped fields', () => {
    expect(() => parseAlpacaSeedTasks(task(0, { instruction: undefined }))).toThrow(/"instruction" to be a string, found no such field/);
    expect(() => parseAlpacaSeedTasks(task(0, { instances: [] }))).toThrow(/"instances" to be a non-empty array/);
    expect(() => parseAlpacaSeedTasks(task(0, { instances: [{ input: 'x' }] }))).toThrow(/"instances\[0\]\.output"/);
    expect(() => parseAlpacaSeedTasks(task(0, { is_classification: 'no' }))).toThrow(/"is_classification" to be a boolean/);
    expect(() => parseAlpacaSeedTasks('[1, 2]')).toThrow(/expected a JSON object, found an array/);
  });
});
