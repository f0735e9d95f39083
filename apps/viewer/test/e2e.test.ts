// End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// never a downloaded browser): a tiny model trained by the trainer CLI on real QuickDraw drawings,
// the page built from source with Vite, served by the viewer's own server on 127.0.0.1. The page
// must load the model, sample a drawing live and paint it; a run without a model and a corrupt
// model must each say what is wrong. Then the page trains on its own, on wasm and on WebGPU
// (SwiftShader): the loss curve gets points, the sample grid is drawn, the downloaded run is one
// the CLI continues and PixelCNN.load opens, and a reload mid-run resumes from the autosave.
// Screenshots go to test-artifacts/.
// PIXELCNN_TEST_BACKENDS picks Node's backends and does not apply here: Node only trains the fixture
// model (on the automatic choice), and every run opens the page on the browser's default backend
// (or the one its address names: ?backend=wasm, ?backend=webgpu, Chromium's SwiftShader adapter
// here; asserted).
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { PixelCNN } from '@pixelcnn/pixelcnn-dist';
import { loadCheckpoint, nodeFileIO } from '@pixelcnn/pixelcnn-dist/node';
import { parseMetricsJsonl } from '@pixelcnn/pixelcnn-dist/run';
import { MODEL_NAMES, MODELS } from '@pixelcnn/quickdraw-models';
import { type CliIo, main } from '@pixelcnn/trainer';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewerServer } from '../server/viewerServer.mjs';
import { readStoredZip } from './storedZip';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = path.resolve(here, '..');
const CHROMIUM = process.env.PIXELCNN_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(appRoot, 'test-artifacts');
/**
 * As root on a closed network: no sandbox, no GPU, no calls home. WebGPU on: without a GPU,
 * Chromium gives pages served from 127.0.0.1 a SwiftShader (CPU) adapter, which
 * @pixelcnn/backend takes only when the page asks for webgpu by name (`?backend=webgpu`).
 */
const FLAGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const haveChromium = fs.existsSync(CHROMIUM);
const suite = haveChromium ? describe : describe.skip;
const title = haveChromium
  ? 'viewer in headless Chromium'
  : `viewer in headless Chromium (skipped: no browser at ${CHROMIUM}; apt-get install chromium)`;

function quietIo(): CliIo & { log: () => string } {
  const out: string[] = [];
  return {
    stdout: { write: (s: string) => void out.push(s), isTTY: false },
    stderr: { write: (s: string) => void out.push(s) },
    env: { QUICKDRAW_BASE_URL: quickdrawDir() },
    cwd: process.cwd(),
    log: () => out.join(''),
  };
}

type Server = ReturnType<typeof createViewerServer>;

async function serve(o: {
  appDir: string;
  runDir: string | null;
}): Promise<{ server: Server; url: string }> {
  const server = createViewerServer({ ...o, dataDir: quickdrawDir() });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** Click "complete" and wait for the completion: what the page's debug hook says it did. */
async function complete(
  page: Page,
): Promise<{ n: number; images: number[]; prefix: number[]; keepRows: number }> {
  await page.click('#complete');
  await page.waitForFunction(
    () =>
      (window as unknown as { __viewer: { lastJob?: { kind: string } } }).__viewer.lastJob?.kind ===
      'complete',
    undefined,
    { timeout: 240_000 },
  );
  return page.evaluate(() => {
    const v = (
      window as unknown as {
        __viewer: { lastJob: { n: number; images: number[]; prefix: number[]; keepRows: number } };
      }
    ).__viewer.lastJob;
    return { n: v.n, images: v.images, prefix: v.prefix, keepRows: v.keepRows };
  });
}

suite(title, () => {
  let tmp: string;
  let appDir: string;
  let runDir: string;
  let browser: Browser;
  const servers: Server[] = [];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-e2e-'));
    appDir = path.join(tmp, 'app');
    runDir = path.join(tmp, 'run');
    // a tiny conditional model, 3 steps on two classes: enough to have a real checkpoint
    const io = quietIo();
    const code = await main(
      [
        'train',
        '--classes',
        'apple,fish',
        '--per-class',
        '40',
        '--num-resnet',
        '1',
        '--num-hierarchies',
        '2',
        '--num-filters',
        '4',
        '--num-logistic-mix',
        '2',
        '--batch-size',
        '8',
        '--steps',
        '3',
        '--eval-images',
        '8',
        '--seed',
        '3',
        '--out',
        runDir,
      ],
      io,
    );
    expect(code, io.log()).toBe(0);
    await build({ root: appRoot, logLevel: 'warn', build: { outDir: appDir, emptyOutDir: true } });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) s.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function open(runAt: string | null, query = ''): Promise<Page> {
    const { server, url } = await serve({ appDir, runDir: runAt });
    servers.push(server);
    const page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url + query);
    // 'loading' until the worker has the model (or has failed to get one)
    await page.waitForFunction(
      () => ['ready', 'none', 'error'].includes(document.body.dataset.model ?? ''),
      undefined,
      { timeout: 120_000 },
    );
    expect(errors).toEqual([]);
    return page;
  }

  /** Sample `n` drawings with the page's Sample button; the finished job's pixels. */
  async function sampleInPage(page: Page, n: number) {
    await page.fill('#count', String(n));
    await page.click('#sample');
    await page.waitForFunction(() => document.body.dataset.job === 'done', undefined, {
      timeout: 240_000,
    });
    return page.evaluate(
      () =>
        (window as unknown as { __viewer: { lastJob?: { n: number; images: number[] } } }).__viewer
          .lastJob,
    );
  }

  it('loads a trained model, samples drawings live and paints them (the canvas is not blank)', async () => {
    const page = await open(runDir);
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('ready');
    const job = await sampleInPage(page, 2);
    expect(job?.n).toBe(2);
    expect(job?.images.length).toBe(2 * 28 * 28);
    for (const v of job?.images ?? []) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
    // the generated grid: many pixels differ from its most common colour (background)
    const painted = await page.evaluate(() => {
      const c = document.getElementById('gen-grid') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const counts = new Map<number, number>();
      for (let i = 0; i < d.length; i += 4) {
        const key = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const most = Math.max(...counts.values());
      return { pixels: d.length / 4, off: d.length / 4 - most, colours: counts.size };
    });
    expect(painted.colours).toBeGreaterThan(2);
    expect(painted.off).toBeGreaterThan(0.05 * painted.pixels);
    expect(await page.textContent('#progress-text')).toMatch(/^done: 2 drawings in/);

    // completion: click the first real drawing, keep its top 14 rows, complete it twice
    await page.click('#real-grid', { position: { x: 10, y: 10 } });
    await page.fill('#complete-count', '2');
    const done = await complete(page);
    expect(done.n).toBe(2);
    expect(done.keepRows).toBe(14);
    const kept = done.prefix.slice(0, 14 * 28);
    expect(kept.some((v) => v > 0)).toBe(true); // the clicked drawing has ink in its top half
    for (let b = 0; b < 2; b++) {
      expect(done.images.slice(b * 784, b * 784 + 14 * 28)).toEqual(kept);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-e2e.png'), fullPage: true });
    await page.close();
  }, 300_000);

  it('runs on WebGPU when asked (?backend=webgpu) and says so: adapter, backend, a completion', async () => {
    const page = await open(runDir, '?backend=webgpu');
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('ready');
    const debug = await page.evaluate(() => {
      const d = (window as unknown as { __viewer: { backend?: string; backendSummary?: string } })
        .__viewer;
      return { backend: d.backend, summary: d.backendSummary };
    });
    expect(debug.backend).toBe('webgpu');
    // No GPU here: Chromium's SwiftShader adapter, reported as software.
    expect(debug.summary).toMatch(/^webgpu \(google swiftshader.*, software\)$/);
    expect(await page.textContent('#status')).toMatch(/^backend webgpu · /);
    // SwiftShader runs the cached sampler at ~0.3 s a pixel (a CPU emulation of many small
    // dispatches): complete the bottom 2 rows of a real drawing (56 pixels), not a whole drawing.
    await page.click('#real-grid', { position: { x: 10, y: 10 } });
    await page.$eval('#keep-rows', (el) => {
      (el as HTMLInputElement).value = '26';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.fill('#complete-count', '1');
    const done = await complete(page);
    expect(done.n).toBe(1);
    expect(done.keepRows).toBe(26);
    expect(done.images.length).toBe(28 * 28);
    expect(done.images.slice(0, 26 * 28)).toEqual(done.prefix.slice(0, 26 * 28));
    for (const v of done.images) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-webgpu.png'), fullPage: true });
    await page.close();
  }, 300_000);

  // ------------------------------------------------------------- training in the page

  /** A network small enough for SwiftShader: 4 filters, 2 mixture components, batches of 8. */
  const TINY = {
    'per-class': 40,
    'held-out': 0.25,
    'num-resnet': 1,
    'num-hierarchies': 2,
    'num-filters': 4,
    'num-logistic-mix': 2,
    'batch-size': 8,
    'eval-images': 8,
  };

  async function fillTrain(
    page: Page,
    o: {
      classes: string;
      fields: Record<string, number>;
      evalEvery: number;
      gridEvery: number;
      gridPerClass: number;
      autosaveSeconds: number;
    },
  ): Promise<void> {
    await page.fill('#train-classes', o.classes);
    for (const [k, v] of Object.entries(o.fields)) await page.fill(`#train-${k}`, String(v));
    // the cadence inputs sit in a closed <details>
    await page.evaluate(
      (c) => {
        for (const [id, v] of Object.entries(c)) {
          (document.getElementById(id) as HTMLInputElement).value = String(v);
        }
      },
      {
        'train-eval-every': o.evalEvery,
        'train-grid-every': o.gridEvery,
        'train-grid-per-class': o.gridPerClass,
        'train-autosave-seconds': o.autosaveSeconds,
      },
    );
  }

  interface TrainingDebug {
    state: string;
    message?: string;
    step?: number;
    rows: { kind: string; step: number; bitsPerDim: number }[];
    grids: number;
    savedStep?: number;
    resumedAt?: number;
  }
  const training = (page: Page) =>
    page.evaluate(
      () => (window as unknown as { __viewer: { training?: TrainingDebug } }).__viewer.training,
    );
  const waitTrain = (page: Page, states: string[], timeout: number) =>
    page.waitForFunction((s) => s.includes(document.body.dataset.train ?? ''), states, { timeout });

  /** Per grid canvas: distinct colours and the fraction of non-paper pixels of its generated row. */
  const gridInk = (page: Page) =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>('#train-grid canvas')).map((c) => {
        const d = c.getContext('2d')!.getImageData(0, c.height / 2, c.width, c.height / 2).data;
        const colours = new Set<number>();
        let ink = 0;
        for (let i = 0; i < d.length; i += 4) {
          colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          if (d[i] < 200) ink++;
        }
        return { cls: c.dataset.class, colours: colours.size, ink: ink / (d.length / 4) };
      }),
    );

  /** Download the run from the page and unpack it under `into`; returns the run directory. */
  async function downloadRun(page: Page, into: string, step: number): Promise<string> {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.click('#train-download'),
    ]);
    const root = `pixelcnn-run-step-${String(step).padStart(8, '0')}`;
    expect(download.suggestedFilename()).toBe(`${root}.zip`);
    const files = readStoredZip(fs.readFileSync((await download.path())!));
    for (const [rel, data] of files) {
      const file = path.join(into, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, data);
    }
    const ck = `${root}/checkpoints/step-${String(step).padStart(8, '0')}`;
    expect([...files.keys()].sort()).toEqual(
      [
        `${root}/settings.json`,
        `${root}/metrics.jsonl`,
        `${root}/metrics.csv`,
        `${root}/checkpoints/latest.json`,
        `${ck}/model.json`,
        `${ck}/weights.bin`,
        `${ck}/trainer.json`,
        `${ck}/trainer.bin`,
      ].sort(),
    );
    return path.join(into, root);
  }

  it('trains from scratch in the page on wasm: loss curve, sample grid, a download the CLI continues', async () => {
    const page = await open(null, '?backend=wasm&pretrained=none');
    await fillTrain(page, {
      classes: 'apple,fish',
      fields: { ...TINY, steps: 4 },
      evalEvery: 2,
      gridEvery: 2,
      gridPerClass: 2,
      autosaveSeconds: 1,
    });
    await page.click('#train-start');
    await waitTrain(page, ['finished', 'failed', 'error'], 240_000);
    const t = (await training(page))!;
    expect(t.state, t.message).toBe('finished');
    expect(t.rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(t.rows.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([2, 4]);
    for (const r of t.rows) expect(r.bitsPerDim).toBeGreaterThan(0);
    expect(t.grids).toBe(2); // after steps 2 and 4
    // the curve: the per-step line and the held-out points
    expect(await page.locator('#train-curve path.train-raw').count()).toBe(1);
    expect(await page.locator('#train-curve circle.held-out').count()).toBe(2);
    // the grid: per class, real drawings above generated ones, which have ink in many shades
    const ink = await gridInk(page);
    expect(ink.map((g) => g.cls)).toEqual(['apple', 'fish']);
    for (const g of ink) {
      expect(g.colours).toBeGreaterThan(10);
      expect(g.ink).toBeGreaterThan(0.05);
    }
    expect(await page.textContent('#train-status')).toMatch(/^backend wasm/);
    expect(await page.textContent('#train-progress-text')).toMatch(/^finished · step 4\/4 · /);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-train-wasm.png'), fullPage: true });

    // the download: a run directory PixelCNN.load, loadCheckpoint and the CLI open
    const run = await downloadRun(page, fs.mkdtempSync(path.join(tmp, 'download-')), 4);
    const ck = path.join(run, 'checkpoints', 'step-00000004');
    const model = await PixelCNN.load(nodeFileIO(ck));
    const facts = await page.evaluate(
      () => (window as unknown as { __viewer: { facts?: { label: string } } }).__viewer.facts,
    );
    expect(facts?.label).toBe('the run training in this page');
    expect(model.config).toMatchObject({ numFilters: 4, numClasses: 2, numLogisticMix: 2 });
    model.dispose();
    const opened = await loadCheckpoint(ck);
    expect(opened.trainer.step).toBe(4);
    opened.trainer.dispose();
    opened.model.dispose();
    const io = quietIo();
    expect(await main(['train', '--resume', run, '--steps', '6'], io), io.log()).toBe(0);
    expect(io.log()).toMatch(/resuming from .*step-00000004 \(step 4, epoch 1\)/);
    const rows = parseMetricsJsonl(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8')).rows;
    expect(rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const sampled = quietIo();
    expect(
      await main(['sample', '--checkpoint', run, '--n', '1', '--real', '1'], sampled),
      sampled.log(),
    ).toBe(0);
    expect(fs.existsSync(path.join(run, 'samples', 'overview.png'))).toBe(true);
    await page.close();
  }, 600_000);

  it('reloads mid-run and resumes from the autosave (wasm)', async () => {
    const page = await open(null, '?backend=wasm&pretrained=none');
    await fillTrain(page, {
      classes: 'apple,fish',
      fields: { ...TINY, steps: 200 },
      evalEvery: 1000,
      gridEvery: 0,
      gridPerClass: 1,
      autosaveSeconds: 1,
    });
    await page.click('#train-start');
    await page.waitForFunction(
      () =>
        ((window as unknown as { __viewer: { training?: TrainingDebug } }).__viewer.training
          ?.savedStep ?? 0) >= 3,
      undefined,
      { timeout: 240_000 },
    );
    await page.reload();
    await page.waitForSelector('#autosave-banner:not([hidden])', { timeout: 60_000 });
    const text = (await page.textContent('#autosave-text')) ?? '';
    const saved = Number(/step (\d+) of 200/.exec(text)?.[1]);
    expect(saved).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/classes apple, fish, 4 filters, wasm/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-train-autosave.png') });
    await page.click('#autosave-resume');
    await page.waitForFunction(
      (at) => {
        const t = (window as unknown as { __viewer: { training?: TrainingDebug } }).__viewer
          .training;
        return t?.resumedAt !== undefined && (t.step ?? 0) >= at + 2;
      },
      saved,
      { timeout: 240_000 },
    );
    const t = (await training(page))!;
    // it went on from the autosave (a slot may be one save older, if the reload cut a save short)
    expect(t.resumedAt).toBeGreaterThanOrEqual(saved - 1);
    expect(t.resumedAt).toBeLessThanOrEqual(saved);
    // and the curve kept the rows from before the reload: steps 1, 2, ... without a gap
    const steps = t.rows.filter((r) => r.kind === 'train').map((r) => r.step);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
    // the form shows the resumed run's settings, not the page's defaults
    expect(await page.inputValue('#train-classes')).toBe('apple,fish');
    expect(await page.inputValue('#train-num-filters')).toBe('4');
    expect(await page.inputValue('#train-steps')).toBe('200');
    await page.click('#train-stop');
    await waitTrain(page, ['stopped'], 120_000);
    await page.screenshot({
      path: path.join(ARTIFACTS, 'viewer-train-resumed.png'),
      fullPage: true,
    });
    await page.close();
  }, 600_000);

  it('trains on WebGPU (SwiftShader): reload mid-run, resume, grid, a download PixelCNN.load opens', async () => {
    const page = await open(null, '?backend=webgpu&pretrained=none');
    await fillTrain(page, {
      classes: 'apple,fish',
      fields: { ...TINY, 'batch-size': 4, 'eval-images': 4, steps: 3 },
      evalEvery: 1000,
      gridEvery: 0,
      gridPerClass: 1,
      autosaveSeconds: 1,
    });
    await page.click('#train-start');
    await page.waitForFunction(
      () =>
        ((window as unknown as { __viewer: { training?: TrainingDebug } }).__viewer.training
          ?.savedStep ?? 0) >= 1,
      undefined,
      { timeout: 300_000 },
    );
    expect(await page.textContent('#train-status')).toMatch(
      /^backend webgpu \(google swiftshader.*, software\)/,
    );
    await page.reload();
    await page.waitForSelector('#autosave-banner:not([hidden])', { timeout: 60_000 });
    expect(await page.textContent('#autosave-text')).toMatch(/step [12] of 3, .*webgpu/);
    // the reloaded page has the default cadence: one drawing per class again (SwiftShader)
    await page.evaluate(() => {
      (document.getElementById('train-grid-every') as HTMLInputElement).value = '0';
      (document.getElementById('train-grid-per-class') as HTMLInputElement).value = '1';
    });
    await page.click('#autosave-resume');
    await waitTrain(page, ['finished', 'failed', 'error'], 600_000);
    const t = (await training(page))!;
    expect(t.state, t.message).toBe('finished');
    expect(t.resumedAt).toBeGreaterThanOrEqual(1);
    expect(t.rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([1, 2, 3]);
    expect(t.rows.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([3]);
    expect(await page.locator('#train-curve path.train-raw').count()).toBe(1);
    expect(t.grids).toBe(1);
    for (const g of await gridInk(page)) {
      expect(g.colours).toBeGreaterThan(10);
      expect(g.ink).toBeGreaterThan(0.05);
    }
    await page.screenshot({
      path: path.join(ARTIFACTS, 'viewer-train-webgpu.png'),
      fullPage: true,
    });
    const run = await downloadRun(page, fs.mkdtempSync(path.join(tmp, 'download-gpu-')), 3);
    const model = await PixelCNN.load(nodeFileIO(path.join(run, 'checkpoints', 'step-00000003')));
    expect(model.config).toMatchObject({ numFilters: 4, numClasses: 2 });
    model.dispose();
    await page.close();
  }, 900_000);

  it("continues the served run's checkpoint in the page (its settings, data order and state)", async () => {
    const page = await open(runDir, '?backend=wasm');
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('ready');
    expect(await page.isVisible('#train-continue')).toBe(true);
    await page.fill('#train-steps', '2'); // two more steps
    await page.evaluate(() => {
      (document.getElementById('train-grid-every') as HTMLInputElement).value = '0';
      (document.getElementById('train-grid-per-class') as HTMLInputElement).value = '1';
    });
    await page.click('#train-continue');
    await waitTrain(page, ['finished', 'failed', 'error'], 240_000);
    const t = (await training(page))!;
    expect(t.state, t.message).toBe('finished');
    expect(t.resumedAt).toBe(3); // the CLI trained 3 steps
    // the served run's rows, then the page's
    expect(t.rows.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    expect(await page.textContent('#train-progress-text')).toMatch(/^finished · step 5\/5 · /);
    await page.close();
  }, 300_000);

  it('refuses a network too big for the wasm heap before training, from its size estimate', async () => {
    const page = await open(null, '?backend=wasm&pretrained=none');
    await fillTrain(page, {
      classes: 'apple,fish',
      fields: { ...TINY, 'num-filters': 1200, 'num-resnet': 5, 'num-hierarchies': 3 },
      evalEvery: 50,
      gridEvery: 50,
      gridPerClass: 1,
      autosaveSeconds: 30,
    });
    await page.click('#train-start');
    await waitTrain(page, ['error', 'failed', 'running'], 120_000);
    expect(await page.evaluate(() => document.body.dataset.train)).toBe('error');
    expect(await page.textContent('#train-message')).toMatch(
      /This network is too big to train on wasm here: this network needs about [\d.]+ GiB for a training step on one image, more than the wasm heap's 4\.00 GiB; use fewer filters, resnets or hierarchies/,
    );
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-train-too-big.png') });
    await page.close();
  }, 120_000);

  it('opens the pretrained model of @pixelcnn/quickdraw-models when no run is served, and samples it', async () => {
    const name = MODEL_NAMES[0];
    expect(name).toBe('shapes4'); // the first shipped model, which the page opens by default
    const page = await open(null, '?backend=wasm');
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('ready');
    const facts = await page.evaluate(
      () =>
        (window as unknown as { __viewer: { facts?: { label: string; classes: string[] } } })
          .__viewer.facts,
    );
    expect(facts?.label).toBe(`pretrained '${name}' (@pixelcnn/quickdraw-models)`);
    expect(facts?.classes).toEqual([...MODELS[name].classes]);
    expect(await page.textContent('#status')).toContain(`pretrained '${name}'`);
    // its files came from the page's own build (bundled assets), not from a served run
    expect(
      fs.readdirSync(path.join(appDir, 'assets')).some((f) => /^weights-.*\.bin$/.test(f)),
    ).toBe(true);
    const job = await sampleInPage(page, 1);
    expect(job?.n).toBe(1);
    expect(job?.images.length).toBe(28 * 28);
    expect(job?.images.filter((v) => v > 128).length).toBeGreaterThan(20); // ink was drawn
    await page.screenshot({
      path: path.join(ARTIFACTS, 'viewer-pretrained.png'),
      fullPage: true,
    });
    await page.close();
  }, 300_000);

  it('says how to make a model when the run directory has none', async () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const page = await open(empty);
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('none');
    const text = await page.textContent('#message');
    expect(text).toContain('No model in');
    expect(text).toContain('pnpm demo');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-no-model.png') });
    await page.close();
  }, 120_000);

  it('shows what is wrong with a corrupt model file', async () => {
    const broken = path.join(tmp, 'broken');
    fs.cpSync(runDir, broken, { recursive: true });
    const ckDir = path.join(broken, 'checkpoints');
    for (const d of fs.readdirSync(ckDir)) {
      const dir = path.join(ckDir, d);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.bin'))) {
        const file = path.join(dir, f);
        fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2));
      }
    }
    const page = await open(broken);
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('error');
    expect(await page.textContent('#message')).toMatch(/truncated|bytes|corrupt/i);
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-corrupt-model.png') });
    await page.close();
  }, 120_000);
});
