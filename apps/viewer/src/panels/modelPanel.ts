// The "Model" panel: which model the worker loaded (or why none), its config, parameters,
// held-out bits/dim and the served run's loss curve.
import { parseMetricsCsv, parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import type { ViewerContext } from '../app/state';
import { configRows, describeModel, formatHeldOut } from '../lib/configView';
import { MAKE_MODEL_COMMANDS, noModelMessage } from '../lib/help';
import { lossCurveSvg } from '../lib/lossCurve';
import { summarizeMetrics } from '../lib/metrics';
import { byId, h, setChildren } from '../ui/dom';

export function mountModelPanel(ctx: ViewerContext): void {
  const { store, worker, page } = ctx;
  const body = document.body;
  const backendName = () => store.get().backend?.name ?? '?';

  worker.on('backend', (m) => {
    store.set({ backend: { name: m.backend, summary: m.summary } });
    page.setStatus(`backend ${m.summary}${store.get().info.run ? ' · loading the model…' : ''}`);
  });

  worker.on('no-model', (m) => {
    body.dataset.model = 'none';
    page.setStatus(`backend ${backendName()} · no model`);
    page.showMessage(
      'info',
      h('p', {}, noModelMessage(store.get().info.runLabel, m.tried)),
      h(
        'p',
        {},
        'Train one in this page (below), or make one with the trainer and serve the viewer against its output directory:',
      ),
      h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
    );
  });

  worker.on('load-error', (m) => {
    body.dataset.model = 'error';
    page.setStatus(`backend ${backendName()} · the model could not be loaded`);
    page.showMessage(
      'error',
      h('p', {}, h('strong', {}, 'The model could not be loaded. ')),
      h('p', { id: 'load-error' }, m.message),
      h(
        'p',
        {},
        `Run directory: ${store.get().info.runLabel ?? '(none)'}. A model from another version, or a file copied while training wrote it? Train again or pick another checkpoint:`,
      ),
      h('pre', {}, MAKE_MODEL_COMMANDS.join('\n')),
    );
  });

  worker.on('loaded', (m) => {
    const cfg = m.facts.config;
    body.dataset.model = 'ready';
    page.hideMessage();
    page.setStatus(
      `backend ${backendName()} · ${m.facts.label} · ${m.numParameters.toLocaleString('en-US')} parameters · sampler '${m.sampler}'${m.trainedHere ? '' : ` · loaded in ${(m.ms / 1000).toFixed(1)} s`}`,
    );
    byId('model-summary').textContent =
      `${describeModel(cfg)}${m.facts.step !== undefined ? `, after ${m.facts.step} training steps` : ''}.`;
    setChildren(
      byId('config-table'),
      ...configRows(m.facts, m.numParameters).map(([k, v, note]) =>
        h('tr', {}, h('th', {}, k), h('td', {}, v), h('td', { class: 'muted small' }, note)),
      ),
    );
    byId('held-out').textContent = formatHeldOut(m.facts.lastEval);
    byId('model-section').hidden = false;
    store.set({
      model: {
        facts: m.facts,
        trainedHere: m.trainedHere,
        numParameters: m.numParameters,
        sampler: m.sampler,
        shape: [...cfg.imageShape] as [number, number, number],
        high: cfg.high ?? 255,
        low: cfg.low ?? 0,
      },
    });
    if (m.trainedHere) {
      byId('loss-curve').textContent =
        'training in this page: its loss curve is in the Train panel';
      byId('held-out').textContent = 'see the Train panel';
    } else void loadMetrics();
  });

  /** The served run's metrics as the loss curve (and its newest held-out evaluation). */
  async function loadMetrics(): Promise<void> {
    const el = byId('loss-curve');
    const run = store.get().info.run;
    if (!run) return;
    const get = async (name: string) => {
      const res = await fetch(`${run}${name}`, { cache: 'no-store' });
      return res.ok ? res.text() : null;
    };
    try {
      let parsed = null;
      const jsonl = await get('metrics.jsonl');
      if (jsonl !== null) parsed = parseMetricsJsonl(jsonl);
      else {
        const csv = await get('metrics.csv');
        if (csv !== null) parsed = parseMetricsCsv(csv);
      }
      if (!parsed) {
        el.innerHTML = lossCurveSvg({ train: [], heldOut: [] });
        return;
      }
      const summary = summarizeMetrics(parsed.rows);
      el.innerHTML = lossCurveSvg(summary);
      if (summary.lastEval) byId('held-out').textContent = formatHeldOut(summary.lastEval);
    } catch (e) {
      el.textContent = `could not read the metrics: ${(e as Error).message}`;
    }
  }
}
