import { bytesToTypedArray, decodeCheckpoint, encodeCheckpoint, typedArrayToBytes } from './checkpoint.js';
import { describeValue, InfoBatchError } from './errors.js';
import type { PolicyConfig } from './policy.js';
import { assertScoreSmoothing, type ScoreSmoothing } from './score-smoothing.js';

/** The epoch a run was in when it was saved: its plan, as made, and the position reached. @internal */
export interface EpochInProgressState {
  readonly epoch: number;
  /** Plan positions already done (trained and recorded), in `[0, indices.length]`. */
  readonly position: number;
  readonly pruning: boolean;
  readonly wellLearned: number;
  /** NaN when the policy used none. */
  readonly threshold: number;
  readonly indices: Int32Array;
  readonly weights: Float32Array;
}

/** Everything an {@link InfoBatch} checkpoint holds, decoded and checked. @internal */
export interface RunState {
  readonly numSamples: number;
  readonly numEpochs: number;
  readonly seed: number;
  readonly scoreSmoothing: ScoreSmoothing;
  readonly allowNegativeLosses: boolean;
  readonly policy: PolicyConfig;
  readonly lossesRecorded: number;
  readonly scores: Float32Array;
  readonly plannedLengths: Int32Array;
  /** Null when no epoch was in progress (and in version-1 checkpoints, which did not record it). */
  readonly epochInProgress: EpochInProgressState | null;
  /** The policy's own bytes, when it has state. */
  readonly policyState: Uint8Array | undefined;
}

const MAX_COUNT = 2 ** 31 - 1;

/** The identity fields a checkpoint shares with the run it is restored into, in a stable order. @internal */
export function runIdentity(state: Pick<RunState, 'numSamples' | 'numEpochs' | 'seed' | 'scoreSmoothing' | 'allowNegativeLosses' | 'policy'>): Record<string, unknown> {
  return {
    library: 'infobatch',
    numSamples: state.numSamples,
    numEpochs: state.numEpochs,
    seed: state.seed,
    scoreSmoothing: state.scoreSmoothing,
    allowNegativeLosses: state.allowNegativeLosses,
    policy: state.policy,
  };
}

/**
 * Version-2 checkpoint bytes of a run. Sections: scores (f32), planned lengths (i32), the plan in
 * progress's indices (i32) and weights (f32), then the policy's state when it has one. @internal
 */
export function encodeRunState(state: RunState): Uint8Array {
  const progress = state.epochInProgress;
  const header = {
    ...runIdentity(state),
    lossesRecorded: state.lossesRecorded,
    epochInProgress: progress === null ? null : {
      epoch: progress.epoch,
      position: progress.position,
      pruning: progress.pruning,
      wellLearned: progress.wellLearned,
      threshold: Number.isNaN(progress.threshold) ? null : progress.threshold,
    },
  };
  const sections = [
    typedArrayToBytes(state.scores),
    typedArrayToBytes(state.plannedLengths),
    typedArrayToBytes(progress?.indices ?? new Int32Array(0)),
    typedArrayToBytes(progress?.weights ?? new Float32Array(0)),
  ];
  if (state.policyState !== undefined) sections.push(state.policyState);
  return encodeCheckpoint(header, sections);
}

/**
 * Decodes and checks checkpoint bytes of either version: checksum, header fields, section sizes
 * (before anything is allocated for them) and values (finite scores of the allowed sign, plan
 * lengths and indices in range, finite non-negative weights), so a crafted checkpoint cannot load
 * an impossible state. Throws 'CORRUPT_CHECKPOINT' naming the field. @internal
 */
export function decodeRunState(where: string, bytes: unknown): RunState {
  const { version, header, sections } = decodeCheckpoint(where, bytes);
  const corrupt = (field: string, what: string): InfoBatchError =>
    new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: '${field}' ${what}. Load the bytes that saveState() wrote, unmodified.`);
  const integer = (field: string, value: unknown, min: number, max: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw corrupt(field, `is ${describeValue(value)} but must be an integer in [${min}, ${max}]`);
    }
    return value;
  };

  if (header['library'] !== 'infobatch') throw corrupt('library', `is ${describeValue(header['library'])} but must be "infobatch"`);
  const numSamples = integer('numSamples', header['numSamples'], 1, MAX_COUNT);
  const numEpochs = integer('numEpochs', header['numEpochs'], 1, MAX_COUNT);
  const seed = integer('seed', header['seed'], 0, 0xffffffff);
  const lossesRecorded = integer('lossesRecorded', header['lossesRecorded'], 0, Number.MAX_SAFE_INTEGER);
  const allowNegativeLosses = header['allowNegativeLosses'];
  if (typeof allowNegativeLosses !== 'boolean') throw corrupt('allowNegativeLosses', `is ${describeValue(allowNegativeLosses)} but must be a boolean`);
  const scoreSmoothing = header['scoreSmoothing'] as ScoreSmoothing;
  try {
    assertScoreSmoothing(where, scoreSmoothing);
  } catch (cause) {
    throw new InfoBatchError('CORRUPT_CHECKPOINT', `Checkpoint passed to ${where} is not usable: 'scoreSmoothing' is invalid: ${(cause as Error).message}`, { cause });
  }
  const policy = header['policy'];
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy) || typeof (policy as PolicyConfig).name !== 'string') {
    throw corrupt('policy', `is ${describeValue(policy)} but must be a policy config { name, ...options }`);
  }

  // Section sizes, checked against the header before any array is allocated for them.
  const planSections = version === 1 ? 0 : 2;
  const fixed = 2 + planSections;
  if (sections.length !== fixed && sections.length !== fixed + 1) {
    throw corrupt('sections', `number ${sections.length} but a version-${version} checkpoint has ${fixed} or ${fixed + 1}`);
  }
  const sized = (field: string, section: Uint8Array, count: number, what: string): void => {
    if (section.length !== count * 4) throw corrupt(field, `section is ${section.length} bytes but ${what} needs ${count * 4}`);
  };
  sized('scores', sections[0]!, numSamples, `numSamples ${numSamples}`);
  sized('plannedLengths', sections[1]!, numEpochs, `numEpochs ${numEpochs}`);
  let planLength = 0;
  if (version !== 1) {
    const indexBytes = sections[2]!.length;
    if (indexBytes % 4 !== 0 || indexBytes > numSamples * 4) throw corrupt('planIndices', `section is ${indexBytes} bytes but must hold at most numSamples (${numSamples}) int32 values`);
    planLength = indexBytes / 4;
    sized('planWeights', sections[3]!, planLength, `a plan of ${planLength} indices`);
  }

  const scores = new Float32Array(numSamples);
  bytesToTypedArray(sections[0]!, scores);
  for (let i = 0; i < numSamples; i++) {
    const score = scores[i]!;
    if (score !== score) continue; // never scored
    if (!Number.isFinite(score)) throw corrupt(`scores[${i}]`, `is ${describeValue(score)} but scores are finite (or NaN when unscored)`);
    if (score < 0 && !allowNegativeLosses) throw corrupt(`scores[${i}]`, `is ${score}, below 0, but this run does not allow negative losses`);
  }
  const plannedLengths = new Int32Array(numEpochs);
  bytesToTypedArray(sections[1]!, plannedLengths);
  for (let e = 0; e < numEpochs; e++) {
    const length = plannedLengths[e]!;
    if (length < -1 || length > numSamples) throw corrupt(`plannedLengths[${e}]`, `is ${length} but must be -1 (not planned) or in [0, ${numSamples}]`);
  }

  let epochInProgress: EpochInProgressState | null = null;
  const progress = version === 1 ? null : header['epochInProgress'];
  if (progress !== null && progress !== undefined) {
    if (typeof progress !== 'object' || Array.isArray(progress)) throw corrupt('epochInProgress', `is ${describeValue(progress)} but must be an object or null`);
    const fields = progress as Record<string, unknown>;
    const epoch = integer('epochInProgress.epoch', fields['epoch'], 0, numEpochs - 1);
    if (plannedLengths[epoch] !== planLength) {
      throw corrupt('planIndices', `holds ${planLength} indices but plannedLengths[${epoch}] of the epoch in progress is ${plannedLengths[epoch]}`);
    }
    const position = integer('epochInProgress.position', fields['position'], 0, planLength);
    const wellLearned = integer('epochInProgress.wellLearned', fields['wellLearned'], 0, numSamples);
    const pruning = fields['pruning'];
    if (typeof pruning !== 'boolean') throw corrupt('epochInProgress.pruning', `is ${describeValue(pruning)} but must be a boolean`);
    const threshold = fields['threshold'];
    if (threshold !== null && (typeof threshold !== 'number' || !Number.isFinite(threshold))) {
      throw corrupt('epochInProgress.threshold', `is ${describeValue(threshold)} but must be a finite number or null`);
    }
    const indices = new Int32Array(planLength);
    bytesToTypedArray(sections[2]!, indices);
    for (let p = 0; p < planLength; p++) {
      const index = indices[p]!;
      if (index < 0 || index >= numSamples) throw corrupt(`planIndices[${p}]`, `is ${index} but sample ids are in [0, ${numSamples - 1}]`);
    }
    const weights = new Float32Array(planLength);
    bytesToTypedArray(sections[3]!, weights);
    for (let p = 0; p < planLength; p++) {
      const weight = weights[p]!;
      if (!(weight >= 0 && weight < Infinity)) throw corrupt(`planWeights[${p}]`, `is ${describeValue(weight)} but weights are finite and >= 0`);
    }
    epochInProgress = { epoch, position, pruning, wellLearned, threshold: threshold ?? Number.NaN, indices, weights };
  } else if (planLength !== 0) {
    throw corrupt('planIndices', `holds ${planLength} indices but the checkpoint has no epoch in progress`);
  }

  return {
    numSamples,
    numEpochs,
    seed,
    scoreSmoothing,
    allowNegativeLosses,
    policy: policy as PolicyConfig,
    lossesRecorded,
    scores,
    plannedLengths,
    epochInProgress,
    policyState: sections.length === fixed + 1 ? sections[fixed] : undefined,
  };
}
