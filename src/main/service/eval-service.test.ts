import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  EvaluateStudyOutput,
  GetComparisonOutput,
  GetJobEvaluationOutput,
  ReadReportImageOutput,
} from '../../shared/eval-api';
import { createEvalFixture, noisyTruthReconstructor } from '../../../test/fixtures/eval.fixture';
import { WorkbenchService } from './workbench-service';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eval-service-'));
  await createEvalFixture(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WorkbenchService evaluation methods', () => {
  it('evaluate, compare, build the report and read a job and its images through the validated contract', async () => {
    const service = new WorkbenchService({ transport: 'http', workspace: dir, reconstructor: noisyTruthReconstructor });
    const progress: string[] = [];
    service.subscribe((event, payload) => {
      if (event === 'evalProgress') progress.push((payload as { message: string }).message);
    });
    const before = (await service.dispatch('getComparison', { artifactRoot: 'artifacts' })) as GetComparisonOutput;
    expect(before.comparison?.rows.filter((r) => r.state === 'evaluated')).toHaveLength(0);
    expect(before.reportHtml).toBeNull();

    const ev = (await service.dispatch('evaluateStudy', { artifactRoot: 'artifacts' })) as EvaluateStudyOutput;
    expect(ev.evaluated).toHaveLength(4);
    expect(ev.missing.map((m) => m.state).sort()).toEqual(['no_model', 'not_run', 'not_run', 'not_run', 'not_trained']);
    expect(progress.some((m) => m.startsWith('evaluating dose_1000-baseline-gs1'))).toBe(true);

    const job = (await service.dispatch('getJobEvaluation', {
      artifactRoot: 'artifacts',
      jobId: 'dose_10000-dense-gs2',
    })) as GetJobEvaluationOutput;
    expect(job.state).toBe('evaluated');
    // 16-px patches stitch their central 5 px (20 at N = 64, in proportion): 6-px spacing leaves gaps
    expect(job.eval?.parameters.stitch_crop_px).toBe(5);
    expect(job.eval?.alignment.coverage).toBeLessThan(1);
    expect(job.images).toBeNull();

    await service.dispatch('buildReport', { artifactRoot: 'artifacts' });
    const after = (await service.dispatch('getComparison', { artifactRoot: 'artifacts' })) as GetComparisonOutput;
    expect(after.reportHtml).toMatch(/report\.html$/);
    expect(after.heatmaps.phase_ms_ssim).toBe('heatmap_phase_ms_ssim.png');
    const withImages = (await service.dispatch('getJobEvaluation', {
      artifactRoot: 'artifacts',
      jobId: 'dose_10000-dense-gs2',
    })) as GetJobEvaluationOutput;
    expect(withImages.images?.phase).toBe('dose_10000-dense-gs2_phase.png');
    const img = (await service.dispatch('readReportImage', {
      artifactRoot: 'artifacts',
      name: withImages.images?.phase,
    })) as ReadReportImageOutput;
    expect(Buffer.from(img.base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses an artifact root outside the workspace in browser mode, and a path as an image name', async () => {
    const service = new WorkbenchService({ transport: 'http', workspace: dir });
    await expect(service.dispatch('getComparison', { artifactRoot: '/etc' })).rejects.toMatchObject({
      code: 'PATH_OUTSIDE_WORKSPACE',
    });
    await expect(
      service.dispatch('readReportImage', { artifactRoot: 'artifacts', name: '../training_manifest.png' }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(
      service.dispatch('getJobEvaluation', { artifactRoot: 'artifacts', jobId: 'dose_100000-dense-gs2' }),
    ).resolves.toMatchObject({ state: 'not_run', eval: null });
  });
});
