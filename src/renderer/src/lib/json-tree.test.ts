import { describe, expect, it } from 'vitest';
import { childPath, type Json, searchJson } from './json-tree';

const manifest: Json = {
  dry_run: true,
  filters: { dose: 1000, view: 'baseline', gridsize: null },
  jobs: [
    { dose: 1000, view: 'baseline', result: { status: 'done', final_loss: 0.25 } },
    { dose: 10000, view: 'dense', result: { status: 'failed', error: 'boom' } },
  ],
  'odd key': 1,
};

describe('manifest tree helpers', () => {
  it('builds paste-able paths', () => {
    expect(childPath('', 'jobs')).toBe('jobs');
    expect(childPath('jobs', 0)).toBe('jobs[0]');
    expect(childPath('jobs[0]', 'result')).toBe('jobs[0].result');
    expect(childPath('', 'odd key')).toBe('["odd key"]');
  });

  it('search finds keys and values and opens their ancestors', () => {
    const r = searchJson(manifest, 'failed');
    expect([...r.matches]).toEqual(['jobs[1].result.status']);
    expect([...r.open].sort()).toEqual(['', 'jobs', 'jobs[1]', 'jobs[1].result']);
    const k = searchJson(manifest, 'FINAL_loss');
    expect([...k.matches]).toEqual(['jobs[0].result.final_loss']);
  });

  it('an empty query matches nothing', () => {
    expect(searchJson(manifest, '  ').matches.size).toBe(0);
  });
});
