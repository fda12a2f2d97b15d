/**
 * Joins our checks (gpu-checks.json) with the PyTorch reference rows (torch.jsonl) into
 * summary.json: samples/s per (gridsize, batch), ours / theirs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckReport } from './checks';

export interface SummaryRow {
  name: string;
  gridsize: number;
  batch: number;
  provider: string;
  ours_samples_per_s: number;
  reference_device: string | null;
  reference_samples_per_s: number | null;
  ratio_vs_reference: number | null;
}

interface TorchRow {
  gridsize: number;
  batch: number;
  samples_per_s: number;
  device?: string;
}

export function summarize(dir: string): { rows: SummaryRow[]; text: string } {
  const report = JSON.parse(readFileSync(join(dir, 'gpu-checks.json'), 'utf8')) as CheckReport;
  const torchPath = join(dir, 'torch.jsonl');
  const torch: TorchRow[] = existsSync(torchPath)
    ? readFileSync(torchPath, 'utf8')
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as TorchRow)
    : [];
  const rows = report.throughput.map((t) => {
    const ref = torch.find((r) => r.gridsize === t.gridsize && r.batch === t.batch) ?? null;
    return {
      name: t.name ?? `pinn_train_gs${t.gridsize}_b${t.batch}_${t.provider}_samples_per_s`,
      gridsize: t.gridsize,
      batch: t.batch,
      provider: t.provider,
      ours_samples_per_s: t.samples_per_s,
      reference_device: ref ? (ref.device ?? 'torch') : null,
      reference_samples_per_s: ref?.samples_per_s ?? null,
      ratio_vs_reference: ref ? t.samples_per_s / ref.samples_per_s : null,
    };
  });
  const lines = [
    `provider ${report.provider} (${report.provider_detail})`,
    `op parity: ${report.op_parity_passed}/${report.op_parity.length} within tolerance`,
    ...rows.map(
      (r) =>
        `${r.name}: ours ${r.ours_samples_per_s.toFixed(1)} samples/s` +
        (r.reference_samples_per_s !== null
          ? `, PyTorch ${r.reference_samples_per_s.toFixed(1)}, ratio ${r.ratio_vs_reference!.toFixed(2)}`
          : ''),
    ),
  ];
  if (report.training) {
    const t = report.training;
    lines.push(
      `training ${t.steps} steps: ${t.accelerator.provider} final loss ${t.accelerator.final_loss} vs cpu ${t.cpu.final_loss} (relative difference ${t.relative_difference})`,
    );
  }
  for (const p of report.profile ?? []) {
    const top = p.top
      .slice(0, 3)
      .map((t) => `${t.key} ${(t.us_per_step / 1000).toFixed(2)} ms (${(100 * t.share).toFixed(0)}% of ${t.cat})`)
      .join(', ');
    lines.push(
      `profile gs${p.gridsize} b${p.batch}: ${(p.run_us / 1000).toFixed(2)} ms per profiled step; largest: ${top}`,
    );
  }
  writeFileSync(
    join(dir, 'summary.json'),
    `${JSON.stringify({ rows, training: report.training, profile: report.profile ?? [], errors: report.errors }, null, 2)}\n`,
  );
  return { rows, text: lines.join('\n') };
}
