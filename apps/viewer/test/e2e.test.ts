// End to end in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// never a downloaded browser): a tiny model trained by the trainer CLI on real QuickDraw drawings,
// the page built from source with Vite, served by the viewer's own server on 127.0.0.1. The page
// must load the model, sample a drawing live and paint it; a run without a model and a corrupt
// model must each say what is wrong. Screenshots go to test-artifacts/.
// PIXELCNN_TEST_BACKENDS picks Node's backends and does not apply here: Node only trains the fixture
// model (on the automatic choice), and every run opens the page on the browser's default backend
// and on WebGPU (?backend=webgpu, Chromium's SwiftShader adapter here; asserted).
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quickdrawDir } from '@pixelcnn/backend/testing';
import { type CliIo, main } from '@pixelcnn/trainer';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createViewerServer } from '../server/viewerServer.mjs';

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

  it('loads a trained model, samples drawings live and paints them (the canvas is not blank)', async () => {
    const page = await open(runDir);
    expect(await page.evaluate(() => document.body.dataset.model)).toBe('ready');
    await page.fill('#count', '2');
    await page.click('#sample');
    await page.waitForFunction(() => document.body.dataset.job === 'done', undefined, {
      timeout: 240_000,
    });
    const job = await page.evaluate(
      () =>
        (window as unknown as { __viewer: { lastJob?: { n: number; images: number[] } } }).__viewer
          .lastJob,
    );
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
