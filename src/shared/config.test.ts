import { describe, expect, it } from 'vitest';
import { LEGACY_KEY_RENAMES, ModelConfig, toLegacyDict, TrainingConfig } from './config';

const training = TrainingConfig.parse({
  train_data_file: '/s/phase_c/dose_1000/patched_train.npz',
  test_data_file: '/s/phase_c/dose_1000/patched_test.npz',
  output_dir: '/s/artifacts/dose_1000/baseline/gs1',
  nphotons: 1000,
});
const model = ModelConfig.parse({ gridsize: 2 });

describe('the legacy bridge', () => {
  it('renames exactly the nine keys of update_legacy_dict and keeps every other name', () => {
    const legacy = toLegacyDict(training, model);
    expect(legacy['output_prefix']).toBe('/s/artifacts/dose_1000/baseline/gs1');
    expect(legacy['train_data_file_path']).toBe('/s/phase_c/dose_1000/patched_train.npz');
    expect(legacy['test_data_file_path']).toBe('/s/phase_c/dose_1000/patched_test.npz');
    expect(legacy['object.big']).toBe(true);
    expect(legacy['probe.big']).toBe(true);
    expect(legacy['probe.mask']).toBe(false);
    expect(legacy['probe.trainable']).toBe(false);
    expect(legacy['intensity_scale.trainable']).toBe(true);
    expect(legacy['positions.provided']).toBe(true);
    for (const [field, key] of Object.entries(LEGACY_KEY_RENAMES)) {
      expect(legacy).not.toHaveProperty(field);
      expect(legacy).toHaveProperty([key]);
    }
    expect(Object.keys(LEGACY_KEY_RENAMES)).toHaveLength(9);
    // Model fields are flattened into the top level.
    expect(legacy['gridsize']).toBe(2);
    expect(legacy['N']).toBe(64);
    expect(legacy['nphotons']).toBe(1000);
    expect(legacy['neighbor_count']).toBe(7);
    expect(legacy).not.toHaveProperty('model');
  });

  it('never writes null: an unset value leaves an existing entry alone and adds no key', () => {
    expect(training.n_groups).toBeNull();
    const fresh = toLegacyDict(training, model);
    expect(fresh).not.toHaveProperty('n_groups');
    expect(Object.values(fresh).every((v) => v !== null && v !== undefined)).toBe(true);
    const base = { n_groups: 512, offset: 4, gridsize: 1 };
    const merged = toLegacyDict(training, model, base);
    expect(merged['n_groups']).toBe(512);
    expect(merged['offset']).toBe(4);
    expect(merged['gridsize']).toBe(2);
  });

  it('is pure: its inputs are left as they were', () => {
    const base = { gridsize: 1 };
    const before = JSON.stringify([training, model, base]);
    toLegacyDict(training, model, base);
    expect(JSON.stringify([training, model, base])).toBe(before);
  });

  it('rejects unknown config fields instead of carrying them silently', () => {
    expect(ModelConfig.safeParse({ gridsize: 1, probe_bigg: true }).success).toBe(false);
  });
});
