/**
 * The demo page: reads the settings (form, prefilled from the URL), starts the training worker,
 * redraws the charts after every epoch and fills the comparison table from the finished runs.
 *
 * URL parameters (all optional): epochs, samples, test, seed, model (mlp|cnn), backend
 * (auto|wasm|webgpu|webgl|cpu), dataset (embedded|synthetic; default embedded), autostart=1 (start
 * at once). When training ends, `document.body.dataset.state` becomes 'done' (or 'error'). For the
 * end-to-end tests, every message of the current demo's worker is kept, in order, in
 * `globalThis.infobatchDemo.messages`.
 */
import { demoTableRow } from '../experiments/demo-table.js';
import type { EpochRecord, RunResult } from '../experiments/results.js';
import type { BackendName } from '../tfjs/backend.js';
import { lineChartSvg, type Series } from './chart.js';
import type { DemoConfig, FromWorker, RunName, ToWorker } from './protocol.js';

const DEFAULTS = { epochs: 10, samples: 5000, test: 2000, seed: 0 };
/** Backends the page tries by default: wasm first, see README ("Demo in the browser"). */
const AUTO_BACKENDS: readonly BackendName[] = ['wasm', 'webgpu', 'webgl', 'cpu'];
const RUN_TITLES: Record<RunName, string> = { full: 'full data', infobatch: 'InfoBatch' };

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`The page has no #${id}.`);
  return found as T;
}

const ui = {
  form: element<HTMLFormElement>('controls'),
  files: element<HTMLInputElement>('files'),
  epochs: element<HTMLInputElement>('epochs'),
  samples: element<HTMLInputElement>('samples'),
  test: element<HTMLInputElement>('test'),
  seed: element<HTMLInputElement>('seed'),
  model: element<HTMLSelectElement>('model'),
  backend: element<HTMLSelectElement>('backend'),
  start: element<HTMLButtonElement>('start'),
  status: element<HTMLElement>('status'),
  progress: element<HTMLElement>('progress'),
  error: element<HTMLElement>('error'),
  accuracy: element<HTMLElement>('chart-accuracy'),
  kept: element<HTMLElement>('chart-kept'),
  tbody: element<HTMLTableElement>('results').tBodies[0]!,
};

type State = 'idle' | 'running' | 'done' | 'error';
const setState = (state: State): void => {
  document.body.dataset['state'] = state;
  ui.start.disabled = state === 'running';
};

/** Prefills the form from the URL parameters (unknown or invalid values fall back to defaults). */
function prefill(params: URLSearchParams): void {
  const int = (name: string, fallback: number) => {
    const n = Number(params.get(name));
    return params.has(name) && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
  };
  ui.epochs.value = String(int('epochs', DEFAULTS.epochs));
  ui.samples.value = String(int('samples', DEFAULTS.samples));
  ui.test.value = String(int('test', DEFAULTS.test));
  ui.seed.value = String(int('seed', DEFAULTS.seed));
  const pick = (select: HTMLSelectElement, value: string | null) => {
    if (value !== null && Array.from(select.options).some((o) => o.value === value)) select.value = value;
  };
  pick(ui.model, params.get('model'));
  const dataset = params.get('dataset');
  if (dataset === 'embedded' || dataset === 'synthetic') (ui.form.elements.namedItem('dataset') as RadioNodeList).value = dataset;
  pick(ui.backend, params.get('backend'));
}

/** The input's value as an integer of at least `min` (the fallback when it is empty or not a number). */
function whole(input: HTMLInputElement, min: number, fallback: number): number {
  const n = Math.floor(input.valueAsNumber);
  return Number.isFinite(n) ? Math.max(min, n) : fallback;
}

function readConfig(): DemoConfig {
  const choice = (ui.form.elements.namedItem('dataset') as RadioNodeList).value;
  const useFiles = choice === 'idx';
  const files = Array.from(ui.files.files ?? []);
  if (useFiles && files.length === 0) throw new Error('Pick the four IDX files first (or choose the synthetic data).');
  const model = ui.model.value;
  const backend = ui.backend.value;
  return {
    dataset: useFiles ? { kind: 'idx', files } : choice === 'synthetic' ? { kind: 'synthetic' } : { kind: 'embedded' },
    epochs: whole(ui.epochs, 1, DEFAULTS.epochs),
    samples: whole(ui.samples, 10, DEFAULTS.samples),
    testSamples: whole(ui.test, 10, DEFAULTS.test),
    seed: whole(ui.seed, 0, DEFAULTS.seed),
    ...((model === 'mlp' || model === 'cnn') && { model }),
    backends: backend === 'auto' ? AUTO_BACKENDS : [backend as BackendName],
  };
}

const percent = (v: number) => `${Math.round(v * 1000) / 10}%`;

function drawCharts(epochs: number, records: Record<RunName, EpochRecord[]>): void {
  const series = (key: 'testAccuracy' | 'keptFraction'): Series[] =>
    (['full', 'infobatch'] as const).map((run) => ({
      label: RUN_TITLES[run],
      className: run,
      points: records[run].map((r) => [r.epoch + 1, r[key]] as const),
    }));
  const xDomain = [1, Math.max(2, epochs)] as const;
  ui.accuracy.innerHTML = lineChartSvg({ title: 'Test accuracy', xTitle: 'epoch', xDomain, minYSpan: 0.04, yBounds: [0, 1], yFormat: percent, series: series('testAccuracy') });
  ui.kept.innerHTML = lineChartSvg({ title: 'Kept fraction of the training set', xTitle: 'epoch', xDomain, yDomain: [0, 1.05], yFormat: percent, series: series('keptFraction') });
}

function addTableRow(result: RunResult, full: RunResult | undefined): void {
  const row = ui.tbody.insertRow();
  row.dataset['run'] = result.label;
  for (const text of demoTableRow(result, full)) row.insertCell().textContent = text;
}

let worker: Worker | undefined;
/** The current demo's worker messages, in order (a test hook, see the module comment). */
const messages: FromWorker[] = [];
(globalThis as { infobatchDemo?: { readonly messages: readonly FromWorker[] } }).infobatchDemo = { messages };

function start(): void {
  let config: DemoConfig;
  try {
    config = readConfig();
  } catch (error) {
    showError(error instanceof Error ? error.message : String(error));
    return;
  }
  worker?.terminate();
  messages.length = 0;
  ui.error.hidden = true;
  ui.tbody.replaceChildren();
  const records: Record<RunName, EpochRecord[]> = { full: [], infobatch: [] };
  const results: Partial<Record<RunName, RunResult>> = {};
  const started = performance.now();
  let summary = '';
  drawCharts(config.epochs, records);
  setState('running');
  ui.status.textContent = 'Starting the worker…';
  ui.progress.textContent = '';

  const current = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  worker = current;
  current.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    messages.push(message);
    switch (message.type) {
      case 'backend':
        document.body.dataset['backend'] = message.name;
        summary = `tfjs backend: ${message.name}`;
        ui.status.textContent = summary;
        break;
      case 'dataset':
        summary += ` · ${message.description} · ${message.numSamples.toLocaleString('en-US')} train / ${message.numTest.toLocaleString('en-US')} test samples · ${message.model} model`;
        ui.status.textContent = summary;
        ui.progress.textContent = 'Warming up the backend…';
        break;
      case 'epoch': {
        const r = message.record;
        records[message.run].push(r);
        drawCharts(config.epochs, records);
        ui.progress.textContent = `${RUN_TITLES[message.run]}: epoch ${r.epoch + 1}/${config.epochs}, test accuracy ${percent(r.testAccuracy)}, kept ${percent(r.keptFraction)}`;
        break;
      }
      case 'run':
        results[message.run] = message.result;
        addTableRow(message.result, results.full);
        break;
      case 'done':
        ui.progress.textContent = `Done: both runs in ${((performance.now() - started) / 1000).toFixed(1)} s (including evaluation).`;
        current.terminate();
        setState('done');
        break;
      case 'error':
        current.terminate();
        showError(message.message);
        break;
    }
  };
  current.onerror = (event) => {
    event.preventDefault();
    current.terminate();
    showError(`The training worker failed: ${event.message || 'it could not be loaded'}`);
  };
  current.postMessage({ type: 'start', config } satisfies ToWorker);
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
  setState('error');
}

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  start();
});
ui.files.addEventListener('change', () => {
  if ((ui.files.files?.length ?? 0) > 0) (ui.form.elements.namedItem('dataset') as RadioNodeList).value = 'idx';
});

const params = new URLSearchParams(location.search);
prefill(params);
drawCharts(Number(ui.epochs.value), { full: [], infobatch: [] });
ui.status.textContent = 'Ready: press Start.';
setState('idle');
if (params.get('autostart') === '1') start();
