// The "Train a model here" panel: the form (pixelcnn train's options, the demo's defaults),
// Train / Pause / Resume / Stop / Download, the live loss and held-out curve, img/s and ETA, the
// backend, the sample grid, and the autosave offered back after a reload.
import { type MetricsRow, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import { isClassName } from '@pixelcnn/quickdraw-data';
import type { CheckpointMeta } from '@pixelcnn/trainer/settings';
import type { TrainingView, ViewerContext } from '../app/state';
import type { TrainFrom, TrainStart } from '../lib/protocol';
import {
  CADENCE_DEFAULTS,
  classList,
  classOfFile,
  commandLine,
  FORM_FIELDS,
  formDefaults,
  formFromSettings,
  settingsFromForm,
} from '../lib/trainForm';
import { byId, h, setChildren } from '../ui/dom';
import type { DataSource } from '../worker/trainingData';
import { drawSampleGrid, renderTraining } from './trainView';

const GIB = 2 ** 30;
/** What the page assumes a WebGPU device has when `?gpuMemory=` does not say (WebGPU cannot tell). */
export const DEFAULT_GPU_MEMORY_GIB = 2;

export function mountTrainPanel(ctx: ViewerContext): void {
  const { store, worker } = ctx;
  const body = document.body;
  const classesInput = byId<HTMLInputElement>('train-classes');
  const filesInput = byId<HTMLInputElement>('train-files');
  const buttons = {
    start: byId<HTMLButtonElement>('train-start'),
    continue: byId<HTMLButtonElement>('train-continue'),
    pause: byId<HTMLButtonElement>('train-pause'),
    resume: byId<HTMLButtonElement>('train-resume'),
    stop: byId<HTMLButtonElement>('train-stop'),
    download: byId<HTMLButtonElement>('train-download'),
  };
  const messageBox = byId('train-message');
  const banner = byId('autosave-banner');
  const cadenceInputs = {
    evalEvery: byId<HTMLInputElement>('train-eval-every'),
    gridEvery: byId<HTMLInputElement>('train-grid-every'),
    gridPerClass: byId<HTMLInputElement>('train-grid-per-class'),
    autosaveSeconds: byId<HTMLInputElement>('train-autosave-seconds'),
  };
  /** Dropped or picked .npy files, by class. */
  let dropped: { name: string; bytes: ArrayBuffer }[] = [];
  let autosaved: CheckpointMeta | undefined;
  const params = new URLSearchParams(location.search);

  // ------------------------------------------------------------- the form
  const defaults = formDefaults();
  classesInput.value = defaults.classes;
  const fieldInputs = new Map<string, HTMLInputElement>();
  const groups = new Map<string, HTMLFieldSetElement>();
  for (const f of FORM_FIELDS) {
    let fs = groups.get(f.group);
    if (!fs) {
      fs = h('fieldset', {}, h('legend', {}, f.group));
      groups.set(f.group, fs);
    }
    const input = h('input', {
      id: `train-${f.option}`,
      type: 'number',
      step: f.step ?? '1',
      value: defaults.fields[f.option],
    });
    fieldInputs.set(f.option, input);
    fs.append(h('label', { title: `pixelcnn train --${f.option}` }, f.label, input));
  }
  setChildren(byId('train-fields'), ...groups.values());
  for (const [k, input] of Object.entries(cadenceInputs)) {
    input.value = String(CADENCE_DEFAULTS[k as keyof typeof CADENCE_DEFAULTS]);
  }
  const fields = () =>
    Object.fromEntries([...fieldInputs].map(([k, el]) => [k, el.value])) as Record<string, string>;
  const cadence = () => ({
    evalEvery: Math.max(1, Math.round(Number(cadenceInputs.evalEvery.value) || 1)),
    gridEvery: Math.max(0, Math.round(Number(cadenceInputs.gridEvery.value) || 0)),
    gridPerClass: Math.min(
      8,
      Math.max(1, Math.round(Number(cadenceInputs.gridPerClass.value) || 1)),
    ),
    autosaveSeconds: Math.max(1, Number(cadenceInputs.autosaveSeconds.value) || 30),
    gridSeed: 1,
  });
  const updateCommand = () => {
    byId('train-command').textContent = commandLine(classList(classesInput.value), fields());
  };
  for (const el of [classesInput, ...fieldInputs.values()])
    el.addEventListener('input', updateCommand);

  function classesNote(): void {
    const mirror = store.get().info.quickdrawClasses;
    const note = byId('train-classes-note');
    if (dropped.length) {
      setChildren(
        note,
        `from the files: ${dropped.map((f) => `${f.name} → ${classOfFile(f.name)}`).join(', ')} `,
        h(
          'button',
          { type: 'button', class: 'class-chip', onclick: clearFiles },
          'use the mirror instead',
        ),
      );
      return;
    }
    if (!store.get().info.quickdraw) {
      note.textContent =
        'No QuickDraw mirror is served (start the viewer with --data DIR): drop .npy bitmap files instead.';
      return;
    }
    if (!mirror) {
      note.textContent = 'Any of QuickDraw’s 345 classes, by name, comma-separated.';
      return;
    }
    const add = (name: string) => () => {
      const now = classList(classesInput.value);
      if (!now.includes(name)) classesInput.value = [...now, name].join(',');
      updateCommand();
    };
    setChildren(
      note,
      `in the served mirror (${mirror.length}): `,
      ...mirror.map((c) =>
        h('button', { type: 'button', class: 'class-chip', onclick: add(c) }, c),
      ),
    );
  }

  async function takeFiles(list: FileList | File[]): Promise<void> {
    const files = Array.from(list).filter((f) => /\.npy$/i.test(f.name));
    if (!files.length) {
      showMessage('error', 'Drop .npy files: QuickDraw bitmaps, uint8 [N, 784], one class a file.');
      return;
    }
    dropped = await Promise.all(
      files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })),
    );
    classesInput.value = dropped.map((f) => classOfFile(f.name)).join(',');
    classesNote();
    updateCommand();
  }
  function clearFiles(): void {
    dropped = [];
    filesInput.value = '';
    classesInput.value = defaults.classes;
    classesNote();
    updateCommand();
  }
  filesInput.addEventListener('change', () => {
    if (filesInput.files?.length) void takeFiles(filesInput.files);
  });
  const section = byId('train-section');
  section.addEventListener('dragover', (e) => {
    e.preventDefault();
    filesInput.parentElement?.classList.add('dragging');
  });
  section.addEventListener('dragleave', () =>
    filesInput.parentElement?.classList.remove('dragging'),
  );
  section.addEventListener('drop', (e) => {
    e.preventDefault();
    filesInput.parentElement?.classList.remove('dragging');
    if (e.dataTransfer?.files.length) void takeFiles(e.dataTransfer.files);
  });

  // ------------------------------------------------------------- starting
  function showMessage(kind: 'info' | 'error', ...content: (Node | string)[]): void {
    messageBox.hidden = false;
    messageBox.className = `message ${kind}`;
    setChildren(messageBox, ...content);
  }

  /** Where the drawings of a run with these classes come from: dropped files, else the mirror. */
  function sourceFor(classes: readonly string[]): DataSource {
    if (dropped.length) return { kind: 'files', files: dropped.map((f) => ({ ...f })) };
    const mirror = store.get().info.quickdraw;
    const custom = classes.filter((c) => !isClassName(c));
    if (custom.length) {
      throw new Error(
        `the run's classes ${custom.join(', ')} came from dropped files: drop them again (${custom.map((c) => `${c}.npy`).join(', ')})`,
      );
    }
    if (!mirror) {
      throw new Error(
        'no QuickDraw mirror is served: drop .npy bitmap files of the classes instead',
      );
    }
    return { kind: 'mirror', baseUrl: new URL(mirror, location.href).href };
  }

  function start(
    from: TrainFrom,
    classes: readonly string[],
    steps?: number,
    metrics?: MetricsRow[],
  ) {
    let source: DataSource;
    try {
      source = sourceFor(classes);
    } catch (e) {
      showMessage('error', (e as Error).message);
      return;
    }
    messageBox.hidden = true;
    const gpu = Number(params.get('gpuMemory'));
    const run: TrainStart = {
      from,
      steps,
      source,
      metrics,
      cadence: cadence(),
      backends: params.get('backend') ?? undefined,
      gpuMemoryBytes: (Number.isFinite(gpu) && gpu > 0 ? gpu : DEFAULT_GPU_MEMORY_GIB) * GIB,
    };
    store.set({
      training: { state: 'preparing', message: 'starting…', rows: metrics ?? [], grids: 0 },
    });
    worker.send({ type: 'train-start', run });
  }

  buttons.start.addEventListener('click', () => {
    const classes = classList(classesInput.value);
    try {
      const settings = settingsFromForm(classes, fields(), { customClasses: dropped.length > 0 });
      start({ kind: 'new', settings }, settings.data.classes);
    } catch (e) {
      showMessage('error', (e as Error).message);
    }
  });
  buttons.continue.addEventListener('click', async () => {
    const { info, model } = store.get();
    if (!info.run || !model) return;
    const more = Math.max(1, Math.round(Number(fieldInputs.get('steps')?.value) || 1));
    const at = model.facts.step ?? 0;
    // the served run's metrics, so the curve (and a download's metrics.jsonl) goes on from them
    let rows: MetricsRow[] = [];
    try {
      const res = await fetch(`${info.run}metrics.jsonl`, { cache: 'no-store' });
      if (res.ok) rows = parseMetricsJsonl(await res.text()).rows.filter((r) => r.step <= at);
    } catch {
      // no metrics served: the curve starts at the checkpoint
    }
    start(
      { kind: 'served', runBase: new URL(info.run, location.href).href, hint: info.checkpoint },
      model.facts.classes,
      at + more,
      rows,
    );
  });
  buttons.pause.addEventListener('click', () =>
    worker.send({ type: 'train-control', action: 'pause' }),
  );
  buttons.resume.addEventListener('click', () =>
    worker.send({ type: 'train-control', action: 'resume' }),
  );
  buttons.stop.addEventListener('click', () =>
    worker.send({ type: 'train-control', action: 'stop' }),
  );
  buttons.download.addEventListener('click', () => {
    buttons.download.disabled = true;
    buttons.download.textContent = 'Preparing the download…';
    worker.send({ type: 'train-download' });
  });
  // Switching tabs or closing the page: save what there is now.
  document.addEventListener('visibilitychange', () => {
    const s = store.get().training?.state;
    if (document.visibilityState === 'hidden' && (s === 'running' || s === 'paused')) {
      worker.send({ type: 'train-control', action: 'save' });
    }
  });

  // ------------------------------------------------------------- the autosave after a reload
  worker.on('autosave', (m) => {
    autosaved = m.found?.meta;
    if (!m.found) {
      banner.hidden = true;
      return;
    }
    const meta = m.found.meta;
    const s = meta.settings;
    const total = s.train?.steps;
    const saved = new Date(m.found.savedAt);
    banner.hidden = false;
    setChildren(
      banner,
      h(
        'p',
        { id: 'autosave-text' },
        h('strong', {}, 'A run trained in this browser was autosaved '),
        `(${saved.toLocaleString()}): step ${meta.progress.step}${total ? ` of ${total}` : ''}, classes ${s.data.classes.join(', ')}, ${s.model.numFilters} filters, ${meta.backend}.`,
      ),
      h(
        'p',
        {},
        h(
          'button',
          { type: 'button', id: 'autosave-resume', class: 'primary', onclick: resumeAutosave },
          'Resume it',
        ),
        ' ',
        h(
          'button',
          { type: 'button', id: 'autosave-discard', onclick: discardAutosave },
          'Discard it',
        ),
      ),
    );
  });
  function resumeAutosave(): void {
    if (!autosaved) return;
    banner.hidden = true;
    start({ kind: 'autosave' }, autosaved.settings.data.classes);
  }
  function discardAutosave(): void {
    banner.hidden = true;
    worker.send({ type: 'autosave-discard' });
  }

  // ------------------------------------------------------------- what the worker says
  const update = (patch: Partial<TrainingView>) =>
    store.set((s) => ({
      training: { ...(s.training ?? { state: 'preparing', rows: [], grids: 0 }), ...patch },
    }));

  worker.on('train-preparing', (m) => update({ state: 'preparing', message: m.text }));
  worker.on('train-error', (m) => {
    update({ state: 'error', message: m.message });
    showMessage('error', h('strong', {}, 'Training could not start. '), m.message);
  });
  worker.on('train-started', (m) => {
    banner.hidden = true;
    update({
      state: 'running',
      message: undefined,
      settings: m.settings,
      progress: m.progress,
      rows: m.metrics,
      numParameters: m.numParameters,
      microBatch: m.microBatch,
      estimateBytes: m.estimateBytes,
      limitBytes: m.limitBytes,
      trainSize: m.trainSize,
      heldOutSize: m.heldOutSize,
      resumedAt: m.resumedAt,
      savedStep: m.resumedAt,
    });
    // the form shows the run (a continued one brings its own settings)
    const shown = formFromSettings(m.settings);
    classesInput.value = shown.classes;
    for (const [k, v] of Object.entries(shown.fields)) {
      const el = fieldInputs.get(k);
      if (el) el.value = v;
    }
    updateCommand();
  });
  worker.on('train-step', (m) => {
    const t = store.get().training;
    update({
      rows: [...(t?.rows ?? []), m.row],
      live: m.live,
      progress: {
        ...(t?.progress ?? { epoch: 0, batchInEpoch: 0, elapsedSeconds: 0 }),
        step: m.row.step,
      },
    });
  });
  worker.on('train-eval', (m) => {
    const t = store.get().training;
    update({ rows: [...(t?.rows ?? []), m.row] });
  });
  worker.on('train-grid', (m) => {
    drawSampleGrid(m.grid, store.get().training?.settings);
    update({ grids: (store.get().training?.grids ?? 0) + 1 });
  });
  worker.on('train-saved', (m) => update({ savedStep: m.step }));
  worker.on('train-save-failed', (m) => {
    showMessage(
      'error',
      h('strong', {}, 'The autosave failed; training goes on. '),
      `${m.message}. A reload would lose the steps since the last autosave: download the checkpoint to keep them.`,
    );
  });
  worker.on('train-state', (m) => {
    update({ state: m.state, message: m.message });
    if (m.state === 'failed' && m.message) {
      showMessage('error', h('strong', {}, 'Training stopped. '), m.message);
    }
  });
  worker.on('train-archive', (m) => {
    buttons.download.textContent = 'Download checkpoint';
    buttons.download.disabled = false;
    const url = URL.createObjectURL(
      new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }),
    );
    const a = h('a', { href: url, download: m.fileName });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    const root = m.fileName.replace(/\.zip$/, '');
    showMessage(
      'info',
      h(
        'p',
        {},
        `Downloaded ${m.fileName}: a run directory with the checkpoint. With the command line:`,
      ),
      h(
        'pre',
        {},
        [
          `unzip ${m.fileName}`,
          `pixelcnn sample --checkpoint ${root}             # drawings per class, PNGs in ${root}/samples`,
          `pixelcnn train --resume ${root} --steps 1000     # continue it (total steps)`,
          `pnpm --filter @pixelcnn/viewer serve -- --run ${root}`,
        ].join('\n'),
      ),
    );
  });
  worker.on('train-archive-error', (m) => {
    buttons.download.textContent = 'Download checkpoint';
    buttons.download.disabled = false;
    showMessage('error', `The checkpoint could not be prepared: ${m.message}`);
  });

  store.subscribe((s, prev) => {
    if (s.info !== prev.info) {
      classesNote();
      updateCommand();
    }
    const t = s.training;
    const state = t?.state ?? 'idle';
    body.dataset.train = state;
    const active = state === 'running' || state === 'paused' || state === 'preparing';
    buttons.start.disabled = active;
    buttons.continue.disabled = active;
    buttons.continue.hidden = !(
      s.model &&
      !s.model.trainedHere &&
      s.model.facts.train &&
      s.info.run
    );
    buttons.pause.disabled = state !== 'running';
    buttons.resume.disabled = state !== 'paused';
    buttons.stop.disabled = !(state === 'running' || state === 'paused');
    if (buttons.download.textContent === 'Download checkpoint') {
      buttons.download.disabled = !t?.settings || state === 'preparing' || state === 'error';
    }
    if (t !== prev.training && t) renderTraining(t, s.backend?.summary);
  });

  classesNote();
  updateCommand();
  worker.send({ type: 'autosave-find' });
}
