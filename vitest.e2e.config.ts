import { defineConfig } from 'vitest/config';
import './vitest.polyfill.ts';

// End-to-end: the built page (vite preview) driven in Debian's Chromium on WebGPU (SwiftShader).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
