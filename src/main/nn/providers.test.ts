import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveProvider } from './session';
import { probeModel, probeProviders, readableProviderError, vulkanDrivers } from './providers';

describe('provider error messages', () => {
  it("keep the sentence after onnxruntime's source location and failed condition", () => {
    const raw =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters';
    expect(readableProviderError(raw)).toBe('Failed to get a WebGPU adapter: No supported adapters');
  });
  it('leaves a plain message alone and bounds a long one', () => {
    expect(readableProviderError('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')).toBe(
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
    );
    expect(readableProviderError('x'.repeat(500))).toHaveLength(298);
  });
});

describe('Vulkan drivers and the WebGPU adapter', () => {
  it('classes lavapipe, llvmpipe and SwiftShader manifests as software, others as hardware', () => {
    const dir = mkdtempSync(join(tmpdir(), 'icd-'));
    const icd = (file: string, lib: string) => {
      writeFileSync(join(dir, file), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib } }));
      return join(dir, file);
    };
    const files = [
      icd('lvp_icd.json', 'libvulkan_lvp.so'),
      icd('vk_swiftshader_icd.json', './libvk_swiftshader.so'),
      icd('nvidia_icd.json', 'libGLX_nvidia.so.0'),
    ];
    const drivers = vulkanDrivers({ VK_DRIVER_FILES: files.join(':') });
    expect(drivers.map((d) => [d.library, d.software])).toEqual([
      ['libvulkan_lvp.so', true],
      ['./libvk_swiftshader.so', true],
      ['libGLX_nvidia.so.0', false],
    ]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the probe model is one training step of the model op set (conv, max-pool gradient, DFT, Adam)', () => {
    const { model, feeds } = probeModel();
    const text = Buffer.from(model).toString('latin1');
    for (const op of ['Conv', 'MaxPool', 'Equal', 'Resize', 'MatMul', 'Sqrt']) expect(text).toContain(op);
    // MaxPool's Indices output is not used (WebGPU cannot compute it)
    expect(text).not.toContain('ScatterElements');
    expect(feeds.map((f) => f.name)).toEqual(expect.arrayContaining(['x', 'w', 'm:w', 'v:w', 'optim.lr']));
  });

  it('a real probe runs the op set on each provider; a software WebGPU adapter is marked, with the reason', async (ctx) => {
    const probes = await probeProviders({ providers: ['webgpu', 'cpu'] });
    const cpu = probes.find((p) => p.name === 'cpu')!;
    expect(cpu.available).toBe(true);
    expect(cpu.detail).toMatch(/op set/);
    const webgpu = probes.find((p) => p.name === 'webgpu')!;
    if (process.env.PTYCHO_REQUIRE_WEBGPU === '1') expect(webgpu.available, webgpu.detail).toBe(true);
    if (!webgpu.available) ctx.skip(`no WebGPU adapter here: ${webgpu.detail}`);
    const onlySoftware = vulkanDrivers().every((d) => d.software);
    if (onlySoftware) {
      expect(webgpu.software).toBe(true);
      expect(webgpu.detail).toMatch(/software Vulkan.*slower than the CPU provider/);
    }
  }, 120_000);
});

describe('auto and a software adapter', () => {
  it('auto does not choose a software WebGPU adapter and says why; an explicit webgpu uses it', async () => {
    const soft = async (names: string[]) =>
      names.map((name) =>
        name === 'webgpu'
          ? { name: 'webgpu' as const, available: true, software: true, detail: 'software Vulkan (libvulkan_lvp.so)' }
          : { name: name as 'cuda', available: false, detail: 'Failed to load shared library' },
      );
    const notices: string[] = [];
    const auto = await resolveProvider({ accelerator: 'auto', probe: soft, onNotice: (m) => notices.push(m) });
    expect(auto.provider).toBe('cpu');
    expect(notices.join()).toMatch(/training on CPU.*webgpu: software Vulkan/);
    const explicit = await resolveProvider({ accelerator: 'webgpu', probe: soft });
    expect(explicit.provider).toBe('webgpu');
  });
});
