/**
 * UI benchmark (Playwright over Debian's Chromium, browser mode, 1280×800):
 * - time to first paint of the workbench served by `ptycho-study serve`;
 * - frame times while nine jobs stream 20 training events/s each into the live chart;
 * - time to draw one curve of 1,000,000 points (raw + smoothed lines, log scale).
 * Synthetic events enter the same CurveStore the engine's events feed (the page exposes it
 * when opened with ?bench), so what is timed is the real chart path.
 * `npm run bench:ui` (= `npm run bench -- --only ui`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { NINE_DOSES, nineJobCells } from '../test/helpers/nine-jobs';
import type { BenchContext, BenchGroup } from './types';
import { median } from './util';

const CHROMIUM = process.env.PTYCHO_CHROMIUM ?? '/usr/bin/chromium';

/**
 * What the in-page functions below use of the browser. This file is type-checked as Node
 * code (no DOM lib), so the page's globals are described here and reached via globalThis.
 */
interface PageEntry {
  startTime: number;
  duration: number;
  /** long-animation-frame entries only */
  blockingDuration?: number;
  renderStart?: number;
  styleAndLayoutStart?: number;
  scripts?: { duration: number; invoker: string; sourceFunctionName: string }[];
}
interface PageGlobal {
  __workbenchBench: {
    curves: {
      ingest(id: string, ev: unknown): void;
      get(id: string): { train: { length: number } } | undefined;
      loadPoints(id: string, x: Float64Array, y: Float64Array): void;
    };
    study: { getState(): { setJobs(doses: number[], cells: unknown[]): void } };
  };
  requestAnimationFrame(cb: (t: number) => void): number;
  setInterval(cb: () => void, ms: number): number;
  clearInterval(h: number): void;
  setTimeout(cb: () => void, ms: number): number;
  document: { querySelector(sel: string): { textContent: string | null } | null };
  performance: { now(): number; getEntriesByName(name: string): PageEntry[]; clearMeasures(name?: string): void };
  PerformanceObserver: new (
    cb: (list: { getEntries(): PageEntry[] }) => void,
  ) => { observe(o: { type: string; buffered?: boolean }): void };
}

async function startServer(workspace: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/ptycho-study.mjs', 'serve', '--port', '0', '--workspace', workspace], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Workbench: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { url, child };
}

/** Nine running cells, as listJobs would give for the demo study. */
async function seedNineJobs(page: Page): Promise<string[]> {
  const cells = nineJobCells('running');
  await page.evaluate(
    ({ doses, cells }) => (globalThis as unknown as PageGlobal).__workbenchBench.study.getState().setJobs(doses, cells),
    { doses: [...NINE_DOSES], cells },
  );
  return cells.map((c) => c.id);
}

async function settle(page: Page): Promise<void> {
  await page.getByTestId('ort-version').waitFor();
  await page.locator('.matrix').waitFor();
  await page.waitForTimeout(500);
}

async function firstPaint(ctx: BenchContext, url: string): Promise<{ fcp: number[]; ready: number[] }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  const samples: number[] = [];
  const ready: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(url, { waitUntil: 'load' });
      await page.getByRole('heading', { name: 'PtychoPINN study workbench' }).waitFor();
      const fcp = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const g = globalThis as unknown as PageGlobal;
            const get = () => g.performance.getEntriesByName('first-contentful-paint')[0]?.startTime;
            const v = get();
            if (v !== undefined) resolve(v);
            else
              new g.PerformanceObserver(() => {
                const w = get();
                if (w !== undefined) resolve(w);
              }).observe({ type: 'paint', buffered: true });
          }),
      );
      samples.push(fcp);
      ready.push(
        await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              const g = globalThis as unknown as PageGlobal;
              const poll = () => {
                const m = g.performance.getEntriesByName('workbench-ready')[0];
                if (m) resolve(m.startTime);
                else g.setTimeout(poll, 20);
              };
              poll();
            }),
        ),
      );
      await page.close();
    }
  } finally {
    await browser.close();
  }
  ctx.log(`first contentful paint samples (ms): ${samples.map((s) => s.toFixed(0)).join(', ')}`);
  ctx.log(`workbench rendered by React (ms): ${ready.map((s) => s.toFixed(0)).join(', ')}`);
  return { fcp: samples, ready };
}

async function streaming(ctx: BenchContext, page: Page, seconds: number) {
  const ids = await seedNineJobs(page);
  const r = await page.evaluate(
    ({ ids, seconds }) =>
      new Promise<{
        frames: number[];
        events: number;
        points: number;
        longTasks: number[];
        updates: number[];
        worstFrame: string;
      }>((resolve) => {
        const g = globalThis as unknown as PageGlobal;
        g.performance.clearMeasures('loss-chart-update');
        const curves = g.__workbenchBench.curves;
        const longTasks: number[] = [];
        new g.PerformanceObserver((l) => {
          for (const e of l.getEntries()) longTasks.push(e.duration);
        }).observe({ type: 'longtask' });
        // Long animation frames say where a slow frame's time went (our scripts vs style/layout/paint).
        let worst: PageEntry | null = null;
        new g.PerformanceObserver((l) => {
          for (const e of l.getEntries()) if (!worst || e.duration > worst.duration) worst = e;
        }).observe({ type: 'long-animation-frame' });
        let events = 0;
        const steps = new Map(ids.map((id) => [id, 0]));
        const t = new Date().toISOString();
        // each job: one step event every 50 ms (20/s), staggered like independent workers
        const timers: number[] = [];
        ids.forEach((id, k) => {
          g.setTimeout(
            () => {
              const h = g.setInterval(() => {
                const s = steps.get(id) ?? 0;
                const loss = (2 + k * 0.1) * Math.exp(-s / 300) + 0.05 * Math.random() + 0.1;
                curves.ingest(id, {
                  type: 'step',
                  time: t,
                  step: s,
                  epoch: Math.floor(s / 100),
                  loss,
                  samples_per_s: 300,
                });
                if (s % 100 === 99)
                  curves.ingest(id, {
                    type: 'epoch',
                    time: t,
                    epoch: Math.floor(s / 100),
                    step: s,
                    train_loss: loss,
                    val_loss: loss * 1.1,
                    lr: 1e-3,
                  });
                steps.set(id, s + 1);
                events++;
              }, 50);
              timers.push(h);
            },
            (k * 50) / ids.length,
          );
        });
        const frames: number[] = [];
        let last = g.performance.now();
        const start = last;
        const tick = (now: number) => {
          frames.push(now - last);
          last = now;
          if (now - start < seconds * 1000) g.requestAnimationFrame(tick);
          else {
            for (const h of timers) g.clearInterval(h);
            let points = 0;
            for (const id of ids) points += curves.get(id)?.train.length ?? 0;
            const updates = g.performance.getEntriesByName('loss-chart-update').map((e) => e.duration);
            const w = worst as PageEntry | null;
            const worstFrame = w
              ? `${w.duration.toFixed(0)} ms frame: scripts ${(w.scripts ?? []).map((x) => `${x.sourceFunctionName || x.invoker} ${x.duration.toFixed(0)} ms`).join(', ') || 'none'}; style+layout+paint ${(w.startTime + w.duration - (w.styleAndLayoutStart || w.renderStart || w.startTime + w.duration)).toFixed(0)} ms`
              : 'none';
            resolve({ frames: frames.slice(1), events, points, longTasks, updates, worstFrame });
          }
        };
        g.requestAnimationFrame(tick);
      }),
    { ids, seconds },
  );
  const sorted = [...r.frames].sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN;
  const max = sorted[sorted.length - 1] ?? Number.NaN;
  ctx.log(`slowest animation frame: ${r.worstFrame}`);
  const over50 = r.frames.filter((f) => f > 50).length;
  const maxUpdate = Math.max(0, ...r.updates);
  ctx.log(
    `streamed ${r.events} events (${(r.events / seconds).toFixed(0)}/s) → ${r.points} points in ${seconds}s; ${r.frames.length} frames (median ${median(r.frames).toFixed(1)} ms, ${over50} over 50 ms); ${r.updates.length} chart updates (${(r.updates.length / seconds).toFixed(1)}/s, max ${maxUpdate.toFixed(1)} ms); long tasks (> 50 ms): ${r.longTasks.length}`,
  );
  return {
    max,
    p99,
    medianFrame: median(r.frames),
    frames: r.frames.length,
    over50,
    longTasks: r.longTasks.length,
    maxUpdate,
    updatesPerS: r.updates.length / seconds,
  };
}

async function millionPoints(ctx: BenchContext, page: Page): Promise<number[]> {
  const times: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const ms = await page.evaluate(async (rep) => {
      const g = globalThis as unknown as PageGlobal;
      const curves = g.__workbenchBench.curves;
      const n = 1_000_000;
      const x = new Float64Array(n);
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        x[i] = i;
        y[i] = 3 * Math.exp(-i / 2e5) + 0.2 + 0.1 * Math.sin(i * 0.37 + rep) * Math.random();
      }
      const counter = g.document.querySelector('[data-testid="chart-points"]');
      // start from a small curve so each repeat really redraws
      curves.loadPoints('dose_1000-baseline-gs1', new Float64Array([0, 1]), new Float64Array([1, 1]));
      await new Promise<void>((resolve) => {
        const wait = () => (counter?.textContent?.startsWith('2 ') ? resolve() : g.requestAnimationFrame(wait));
        wait();
      });
      const t0 = g.performance.now();
      curves.loadPoints('dose_1000-baseline-gs1', x, y);
      // drawn = the chart reports the new point count, then the frame that shows it is painted
      await new Promise<void>((resolve) => {
        const check = () => {
          if (counter?.textContent?.startsWith('1,000,')) g.requestAnimationFrame(() => resolve());
          else g.requestAnimationFrame(check);
        };
        check();
      });
      return g.performance.now() - t0;
    }, rep);
    times.push(ms);
  }
  ctx.log(`1M-point draw samples (ms, first one cold): ${times.map((t) => t.toFixed(0)).join(', ')}`);
  return times;
}

export const uiBench: BenchGroup = {
  name: 'ui',
  description: 'workbench UI in Chromium: first paint, frame time while 9 jobs stream, 1M-point curve',
  default: false,
  async run(ctx) {
    const workspace = mkdtempSync(join(tmpdir(), 'ptycho-bench-ui-'));
    const { url, child } = await startServer(workspace);
    try {
      const paint = await firstPaint(ctx, url);
      ctx.report({
        name: 'ui_first_paint_ms',
        value: median(paint.fcp),
        unit: 'ms',
        notes: 'first contentful paint, median of 5, goal < 1500',
      });
      ctx.report({
        name: 'ui_workbench_ready_ms',
        value: median(paint.ready),
        unit: 'ms',
        notes: 'React workbench mounted, median of 5',
      });

      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(`${url}&bench=1`);
        await page.getByRole('heading', { name: 'PtychoPINN study workbench' }).waitFor();
        // let start-up finish (engine info, job list, manifest) so only streaming is timed
        await settle(page);
        const seconds = ctx.quick ? 5 : 15;
        const s = await streaming(ctx, page, seconds);
        ctx.report({
          name: 'ui_stream_max_frame_ms',
          value: s.max,
          unit: 'ms',
          notes: `9 jobs × 20 events/s for ${seconds} s, goal ≤ 50`,
        });
        ctx.report({ name: 'ui_stream_p99_frame_ms', value: s.p99, unit: 'ms' });
        ctx.report({ name: 'ui_stream_median_frame_ms', value: s.medianFrame, unit: 'ms' });
        ctx.report({ name: 'ui_stream_frames_over_50ms', value: s.over50, unit: 'frames', notes: `of ${s.frames}` });
        ctx.report({
          name: 'ui_stream_long_tasks',
          value: s.longTasks,
          unit: 'tasks',
          notes: 'main-thread tasks > 50 ms',
        });
        ctx.report({ name: 'ui_stream_max_chart_update_ms', value: s.maxUpdate, unit: 'ms' });
        ctx.report({
          name: 'ui_stream_chart_updates_per_s',
          value: s.updatesPerS,
          unit: '1/s',
          notes: 'coalesced, goal ≤ ~20',
        });
        await page.reload();
        await page.getByRole('heading', { name: 'PtychoPINN study workbench' }).waitFor();
        // let start-up finish (engine info, job list, manifest) so only streaming is timed
        await settle(page);
        await seedNineJobs(page);
        const m = await millionPoints(ctx, page);
        ctx.report({ name: 'ui_1m_points_draw_cold_ms', value: m[0], unit: 'ms', notes: 'first draw in a fresh page' });
        ctx.report({
          name: 'ui_1m_points_draw_ms',
          value: median(m),
          unit: 'ms',
          notes: 'median of 5, raw + smoothed, goal < 300',
        });
        await page.screenshot({ path: 'test-results/screenshots/bench-1m-points.png' });
      } finally {
        await browser.close();
      }
    } finally {
      child.kill('SIGTERM');
      rmSync(workspace, { recursive: true, force: true });
    }
  },
};
