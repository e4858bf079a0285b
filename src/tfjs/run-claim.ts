/**
 * One training run per model at a time. A run claims its model synchronously, before its first
 * `await`, so that two runs started together cannot both pass the check and then interleave their
 * steps on the same variables; the claim is released when the run settles. What a run holds
 * besides the model (its checkpoint folder's lock) is released with it.
 * @internal
 */
import { InfoBatchError } from '../core/errors.js';

/** A model claimed by a run; see {@link claimModel}. @internal */
export interface ModelClaim {
  /** The function that holds the model (`trainWithInfoBatch`, `fitWithInfoBatch`). */
  readonly where: string;
  /** Runs `cleanup` when the claim is released (after the run settled), latest first. */
  atRelease(cleanup: () => void | Promise<void>): void;
  /** Releases everything the run holds, then the model; never rejects. Idempotent. */
  release(): Promise<void>;
}

interface TfjsTrainingFlag {
  isTraining?: boolean;
}

const claims = new WeakMap<object, ModelClaim>();

/** The object whose training state counts: a `tf.Sequential` trains through the LayersModel it wraps. */
function trainingTarget(model: object): object {
  const inner = (model as { model?: unknown }).model;
  return typeof inner === 'object' && inner !== null && typeof (inner as { fit?: unknown }).fit === 'function' ? inner : model;
}

/**
 * Claims `model` for a run of `where`, synchronously. A tfjs-layers model is also marked as
 * training (its `isTraining` flag), so a `model.fit` started meanwhile is refused by tfjs, and a
 * `model.fit` in progress is refused here.
 * @throws InfoBatchError 'INVALID_STATE' naming the run that holds the model.
 * @internal
 */
export function claimModel(where: string, model: unknown): ModelClaim {
  const cleanups: Array<() => void | Promise<void>> = [];
  let released: Promise<void> | undefined;
  if (typeof model !== 'object' || model === null) {
    // Not a model: the caller's own checks reject it; nothing to hold.
    return { where, atRelease: (cleanup) => void cleanups.push(cleanup), release: async () => {
      for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
    } };
  }
  // Keyed by the object passed and by the LayersModel a tf.Sequential wraps (built lazily, so
  // possibly not yet there): either finds the claim.
  const target = trainingTarget(model);
  const holder = claims.get(model) ?? claims.get(target);
  if (holder !== undefined) {
    throw new InfoBatchError('INVALID_STATE', `${where} was called on a model that ${holder.where} is already training (a run started earlier has not finished); two runs on one model would interleave their steps on the same weights. Await the first run before starting another on this model, or train a separate model.`);
  }
  const flag = target as TfjsTrainingFlag;
  if (flag.isTraining === true) {
    throw new InfoBatchError('INVALID_STATE', `${where} was called on a model that is already training (a model.fit() or model.fitDataset() call has not finished); await it first.`);
  }
  const marks = 'isTraining' in target;
  const claim: ModelClaim = {
    where,
    atRelease(cleanup) {
      cleanups.push(cleanup);
    },
    release() {
      released ??= (async () => {
        for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
        if (marks) flag.isTraining = false;
        claims.delete(model);
        claims.delete(target);
      })();
      return released;
    },
  };
  claims.set(model, claim);
  claims.set(target, claim);
  if (marks) flag.isTraining = true;
  return claim;
}

/** The claim a run holds on `model`, if any. @internal */
export function claimOf(model: object): ModelClaim | undefined {
  return claims.get(model) ?? claims.get(trainingTarget(model));
}
