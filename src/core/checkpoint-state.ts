import { decodeCheckpoint, encodeCheckpointChunks, readSection, sectionBytes, type CheckpointSection, type SectionData } from './checkpoint.js';
import { MAX_PALETTE, memberWords, type CompactSelection } from './compact-plan.js';
import { describeValue, InfoBatchError } from './errors.js';
import type { PolicyConfig } from './policy.js';
import { assertScoreSmoothing, type ScoreSmoothing } from './score-smoothing.js';

/**
 * How the plan in progress is kept: its selection in compact form with the state of the epoch's
 * generator before the shuffle (the plan is rebuilt from them), or the plan's own arrays (policies
 * whose selection is not in ascending id order, and version-2 checkpoints). @internal
 */
export type PlanSource =
  | { readonly kind: 'compact'; readonly compact: CompactSelection; readonly random: readonly number[] }
  | { readonly kind: 'explicit'; readonly indices: Int32Array; readonly weights: Float32Array };

/** The epoch a run was in when it was saved: how to rebuild its plan, and the position reached. @internal */
export interface EpochInProgressState {
  readonly epoch: number;
  /** Plan positions already done (trained and recorded), in `[0, length]`. */
  readonly position: number;
  readonly pruning: boolean;
  readonly wellLearned: number;
  /** NaN when the policy used none. */
  readonly threshold: number;
  /** The plan's length. */
  readonly length: number;
  readonly source: PlanSource;
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

/** How the three plan sections of a version-3 checkpoint are to be read. */
type PlanEncoding = 'palette' | 'weights' | 'explicit';

/**
 * Version-3 checkpoint bytes of a run, in chunks of at most `chunkBytes` (see
 * `encodeCheckpointChunks`). Sections: scores (f32), planned lengths (i32), then three plan
 * sections read as `epochInProgress.encoding` says — `'palette'`: member bit set (u32 words),
 * weight ids (u8), palette (f32); `'weights'`: member bit set, weights (f32), empty;
 * `'explicit'`: the plan's indices (i32) and weights (f32), empty — then the policy's state when
 * it has one. @internal
 */
export function encodeRunStateChunks(state: RunState, chunkBytes?: number, reuseChunk = false): Generator<Uint8Array> {
  const progress = state.epochInProgress;
  let encoding: PlanEncoding | undefined;
  let plan: [SectionData, SectionData, SectionData] = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];
  const source = progress?.source;
  if (source?.kind === 'compact') {
    const { members, weightIds, weights, palette } = source.compact;
    encoding = weightIds !== undefined ? 'palette' : 'weights';
    plan = weightIds !== undefined ? [members, weightIds, palette] : [members, weights!, new Uint8Array(0)];
  } else if (source?.kind === 'explicit') {
    encoding = 'explicit';
    plan = [source.indices, source.weights, new Uint8Array(0)];
  }
  const header = {
    ...runIdentity(state),
    lossesRecorded: state.lossesRecorded,
    epochInProgress: progress === null ? null : {
      epoch: progress.epoch,
      position: progress.position,
      pruning: progress.pruning,
      wellLearned: progress.wellLearned,
      threshold: Number.isNaN(progress.threshold) ? null : progress.threshold,
      length: progress.length,
      encoding,
      ...(source?.kind === 'compact' && { random: [...source.random] }),
    },
  };
  const sections: SectionData[] = [state.scores, state.plannedLengths, ...plan];
  if (state.policyState !== undefined) sections.push(state.policyState);
  return encodeCheckpointChunks(header, sections, chunkBytes, reuseChunk);
}

/**
 * Decodes and checks checkpoint bytes of any version (one array, or chunks): checksum, header
 * fields, section sizes (before anything is allocated for them) and values (finite scores of the
 * allowed sign, plan lengths, ids and members in range, finite non-negative weights), so a
 * crafted checkpoint cannot load an impossible state. Throws 'CORRUPT_CHECKPOINT' naming the
 * field. @internal
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
  const planSections = version === 1 ? 0 : version === 2 ? 2 : 3;
  const fixed = 2 + planSections;
  if (sections.length !== fixed && sections.length !== fixed + 1) {
    throw corrupt('sections', `number ${sections.length} but a version-${version} checkpoint has ${fixed} or ${fixed + 1}`);
  }
  const sized = (field: string, section: CheckpointSection, bytes: number, what: string): void => {
    if (section.length !== bytes) throw corrupt(field, `section is ${section.length} bytes but ${what} needs ${bytes}`);
  };
  sized('scores', sections[0]!, numSamples * 4, `numSamples ${numSamples}`);
  sized('plannedLengths', sections[1]!, numEpochs * 4, `numEpochs ${numEpochs}`);

  const scores = new Float32Array(numSamples);
  readSection(sections[0]!, scores);
  for (let i = 0; i < numSamples; i++) {
    const score = scores[i]!;
    if (score !== score) continue; // never scored
    if (!Number.isFinite(score)) throw corrupt(`scores[${i}]`, `is ${describeValue(score)} but scores are finite (or NaN when unscored)`);
    if (score < 0 && !allowNegativeLosses) throw corrupt(`scores[${i}]`, `is ${score}, below 0, but this run does not allow negative losses`);
  }
  const plannedLengths = new Int32Array(numEpochs);
  readSection(sections[1]!, plannedLengths);
  for (let e = 0; e < numEpochs; e++) {
    const length = plannedLengths[e]!;
    if (length < -1 || length > numSamples) throw corrupt(`plannedLengths[${e}]`, `is ${length} but must be -1 (not planned) or in [0, ${numSamples}]`);
  }

  const progress = version === 1 ? null : header['epochInProgress'];
  let epochInProgress: EpochInProgressState | null = null;
  if (progress !== null && progress !== undefined) {
    if (typeof progress !== 'object' || Array.isArray(progress)) throw corrupt('epochInProgress', `is ${describeValue(progress)} but must be an object or null`);
    const fields = progress as Record<string, unknown>;
    const epoch = integer('epochInProgress.epoch', fields['epoch'], 0, numEpochs - 1);
    const wellLearned = integer('epochInProgress.wellLearned', fields['wellLearned'], 0, numSamples);
    const pruning = fields['pruning'];
    if (typeof pruning !== 'boolean') throw corrupt('epochInProgress.pruning', `is ${describeValue(pruning)} but must be a boolean`);
    const threshold = fields['threshold'];
    if (threshold !== null && (typeof threshold !== 'number' || !Number.isFinite(threshold))) {
      throw corrupt('epochInProgress.threshold', `is ${describeValue(threshold)} but must be a finite number or null`);
    }
    const plan = version === 2 ? planV2(sections, numSamples, corrupt) : planV3(fields, sections, numSamples, corrupt, integer);
    if (plannedLengths[epoch] !== plan.length) {
      throw corrupt(plan.field, `holds ${plan.length} samples but plannedLengths[${epoch}] of the epoch in progress is ${plannedLengths[epoch]}`);
    }
    const position = integer('epochInProgress.position', fields['position'], 0, plan.length);
    epochInProgress = { epoch, position, pruning, wellLearned, threshold: threshold ?? Number.NaN, length: plan.length, source: plan.source };
  } else if (version !== 1 && sections.slice(2, fixed).some((section) => section.length !== 0)) {
    throw corrupt(version === 2 ? 'planIndices' : 'planMembers', 'holds a plan but the checkpoint has no epoch in progress');
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
    policyState: sections.length === fixed + 1 ? sectionBytes(sections[fixed]!) : undefined,
  };
}

type Corrupt = (field: string, what: string) => InfoBatchError;

/** The plan arrays of a version-2 checkpoint (or the `'explicit'` plan of a version-3 one), checked. */
function explicitPlan(indexSection: CheckpointSection, weightSection: CheckpointSection, numSamples: number, corrupt: Corrupt, length?: number): { length: number; field: string; source: PlanSource } {
  const indexBytes = indexSection.length;
  if (indexBytes % 4 !== 0 || indexBytes > numSamples * 4) throw corrupt('planIndices', `section is ${indexBytes} bytes but must hold at most numSamples (${numSamples}) int32 values`);
  const count = indexBytes / 4;
  if (length !== undefined && count !== length) throw corrupt('planIndices', `section holds ${count} indices but 'epochInProgress.length' is ${length}`);
  if (weightSection.length !== count * 4) throw corrupt('planWeights', `section is ${weightSection.length} bytes but a plan of ${count} indices needs ${count * 4}`);
  const indices = new Int32Array(count);
  readSection(indexSection, indices);
  for (let p = 0; p < count; p++) {
    const index = indices[p]!;
    if (index < 0 || index >= numSamples) throw corrupt(`planIndices[${p}]`, `is ${index} but sample ids are in [0, ${numSamples - 1}]`);
  }
  const weights = new Float32Array(count);
  readSection(weightSection, weights);
  assertWeights(weights, 'planWeights', corrupt);
  return { length: count, field: 'planIndices', source: { kind: 'explicit', indices, weights } };
}

function assertWeights(weights: Float32Array, field: string, corrupt: Corrupt): void {
  for (let p = 0; p < weights.length; p++) {
    const weight = weights[p]!;
    if (!(weight >= 0 && weight < Infinity)) throw corrupt(`${field}[${p}]`, `is ${describeValue(weight)} but weights are finite and >= 0`);
  }
}

function planV2(sections: readonly CheckpointSection[], numSamples: number, corrupt: Corrupt): { length: number; field: string; source: PlanSource } {
  return explicitPlan(sections[2]!, sections[3]!, numSamples, corrupt);
}

function planV3(fields: Record<string, unknown>, sections: readonly CheckpointSection[], numSamples: number, corrupt: Corrupt, integer: (field: string, value: unknown, min: number, max: number) => number): { length: number; field: string; source: PlanSource } {
  const length = integer('epochInProgress.length', fields['length'], 0, numSamples);
  const encoding = fields['encoding'];
  const [a, b, c] = [sections[2]!, sections[3]!, sections[4]!];
  if (encoding === 'explicit') {
    if (c.length !== 0) throw corrupt('planPalette', `section is ${c.length} bytes but an explicit plan has none`);
    return explicitPlan(a, b, numSamples, corrupt, length);
  }
  if (encoding !== 'palette' && encoding !== 'weights') throw corrupt('epochInProgress.encoding', `is ${describeValue(encoding)} but must be "palette", "weights" or "explicit"`);
  const random = fields['random'];
  if (!Array.isArray(random) || random.length !== 4 || !random.every((w) => typeof w === 'number' && (w | 0) === w) || random.every((w) => w === 0)) {
    throw corrupt('epochInProgress.random', `is ${describeValue(random)} but must be four 32-bit integers, not all 0 (the generator's state)`);
  }
  const words = memberWords(numSamples);
  if (a.length !== words * 4) throw corrupt('planMembers', `section is ${a.length} bytes but a bit set of numSamples ${numSamples} needs ${words * 4}`);
  if (encoding === 'palette') {
    if (b.length !== length) throw corrupt('planWeightIds', `section is ${b.length} bytes but a plan of ${length} samples needs ${length}`);
    if (c.length % 4 !== 0 || c.length === 0 || c.length > MAX_PALETTE * 4) throw corrupt('planPalette', `section is ${c.length} bytes but must hold 1 to ${MAX_PALETTE} float32 weights`);
  } else {
    if (b.length !== length * 4) throw corrupt('planWeights', `section is ${b.length} bytes but a plan of ${length} samples needs ${length * 4}`);
    if (c.length !== 0) throw corrupt('planPalette', `section is ${c.length} bytes but a plan with its own weights has none`);
  }
  const members = new Uint32Array(words);
  readSection(a, members);
  let count = 0;
  for (let w = 0; w < words; w++) {
    let word = members[w]!;
    while (word !== 0) {
      word &= word - 1;
      count++;
    }
  }
  const spare = words * 32 - numSamples;
  if (spare > 0 && members[words - 1]! >>> (32 - spare) !== 0) throw corrupt('planMembers', `has a sample id beyond numSamples - 1 (${numSamples - 1})`);
  if (count !== length) throw corrupt('planMembers', `holds ${count} samples but 'epochInProgress.length' is ${length}`);
  let compact: CompactSelection;
  if (encoding === 'palette') {
    const palette = new Float32Array(c.length / 4);
    readSection(c, palette);
    assertWeights(palette, 'planPalette', corrupt);
    const weightIds = sectionBytes(b);
    for (let p = 0; p < length; p++) {
      if (weightIds[p]! >= palette.length) throw corrupt(`planWeightIds[${p}]`, `is ${weightIds[p]} but the palette holds ${palette.length} weights`);
    }
    compact = { length, members, palette, weightIds, weights: undefined };
  } else {
    const weights = new Float32Array(length);
    readSection(b, weights);
    assertWeights(weights, 'planWeights', corrupt);
    compact = { length, members, palette: new Float32Array(0), weightIds: undefined, weights };
  }
  return { length, field: 'planMembers', source: { kind: 'compact', compact, random: random as number[] } };
}
