/** One measurement row; `npm run bench -- --json` prints one of these per line. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  reference_value?: number;
  ratio_vs_reference?: number;
  notes?: string;
}

export interface BenchContext {
  /** Report a measurement (printed at once). */
  report(row: BenchRow): void;
  log(message: string): void;
  quick: boolean;
  quality: boolean;
  threads: number;
}

export interface BenchGroup {
  name: string;
  description: string;
  /** Part of the default run (under 5 minutes on 2 cores in all) unless false. */
  default?: boolean;
  run(ctx: BenchContext): Promise<void>;
}
