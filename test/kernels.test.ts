/**
 * The fused WebGPU kernels (fake-quant, GELU forward/backward, AdamW; the transformer's RMSNorm,
 * causal attention, cross-entropy, column-absmax fake-quant and bias gradient, forward and
 * backward, a tiny GPT's gradients and training steps) and the cpu/wasm transpose kernel against
 * the plain tf-op path, element by element: bench/verify-kernels.ts on Dawn +
 * SwiftShader in a child process (Dawn needs its environment at process start).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runChild } from './helpers/spawn';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const HAS_SWIFTSHADER = existsSync(ICD);
const TITLE = 'every fused kernel equals the tf-op path, and a training step issues far fewer GPU programs';

describe('fused kernels', () => {
  it.skipIf(!HAS_SWIFTSHADER)(
    HAS_SWIFTSHADER ? TITLE : `${TITLE} — skipped: ${ICD} not found`,
    async () => {
      const env = { ...process.env, LD_LIBRARY_PATH: '/usr/lib/chromium', VK_ICD_FILENAMES: ICD };
      const r = await runChild('npx', ['tsx', 'bench/verify-kernels.ts'], { env, timeoutMs: 540_000 });
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
        backend: string;
        checks: { name: string; ok: boolean }[];
        programs: Record<string, number>;
      };
      expect(out.backend).toBe('webgpu');
      expect(out.checks.length).toBeGreaterThan(20);
      expect(out.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual([]);
      expect(r.code, r.stderr).toBe(0);
      // The GPT step: far fewer programs than the tf-op path, and QAFT (int3) at most 10 % above FP.
      const p = out.programs;
      expect(p['gpt fp fused'], JSON.stringify(p)).toBeLessThan(p['gpt fp tf ops'] / 3);
      expect(p['gpt int3 fused'], JSON.stringify(p)).toBeLessThanOrEqual(1.1 * p['gpt fp fused']);
    },
    560_000,
  );
});
