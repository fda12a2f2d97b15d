/** Child for the cross-host lock test: appends N entries to the manifest, each in its own locked update. */
import { updateManifest } from './manifest-store';

const [root, times, tag] = process.argv.slice(2);
for (let i = 0; i < Number(times); i++) {
  await updateManifest(root, (m) => {
    if (!m) throw new Error('no manifest');
    const writes = Array.isArray(m.writes) ? (m.writes as string[]) : [];
    return { ...m, writes: [...writes, `${tag}-${i}`] };
  });
}
