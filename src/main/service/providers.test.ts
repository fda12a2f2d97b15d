import { describe, expect, it } from 'vitest';
import { readableProviderError } from './providers';

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
