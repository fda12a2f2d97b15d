import type { Command } from 'commander';
import { WorkbenchService } from '../../service/workbench-service';
import { printJson } from '../output';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('show versions and the execution providers that actually work on this machine')
    .option('--json', 'print JSON for scripts')
    .action(async (opts: { json?: boolean }) => {
      const info = await new WorkbenchService({ transport: 'cli' }).getInfo();
      if (opts.json) return printJson(info);
      console.log(`ptycho-study ${info.appVersion}`);
      console.log(
        `onnxruntime-node ${info.onnxruntimeVersion} · Node ${info.nodeVersion} · ${info.platform}/${info.arch}`,
      );
      console.log('Execution providers:');
      for (const p of info.providers) {
        const mark = p.available ? (p.software ? '~' : '✔') : '✘';
        console.log(`  ${mark} ${p.name.padEnd(7)} ${p.detail}`);
      }
      const auto = info.providers.find((p) => p.name !== 'cpu' && p.available && !p.software)?.name ?? 'cpu';
      console.log(`--accelerator auto uses: ${auto}`);
    });
}
