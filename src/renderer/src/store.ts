import { create } from 'zustand';
import type { WorkbenchInfo } from '../../shared/api';
import { call } from './api-client';

interface InfoState {
  info: WorkbenchInfo | null;
  error: string | null;
  load(): Promise<void>;
}

export const useInfo = create<InfoState>((set) => ({
  info: null,
  error: null,
  async load() {
    try {
      set({ info: await call('getInfo', {}), error: null });
    } catch (e) {
      set({ error: e instanceof Error ? e.message : String(e) });
    }
  },
}));
