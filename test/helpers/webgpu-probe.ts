/**
 * Child-process script for test/webgpu.test.ts: the engine on tfjs-webgpu in Node (Dawn via the
 * `webgpu` package; on a machine without a GPU, SwiftShader). Needs LD_LIBRARY_PATH and
 * VK_ICD_FILENAMES set at process start, which is why it runs as its own process.
 * Prints one JSON line on stdout; tiny shapes only (SwiftShader is slow).
 */
import * as tf from '@tensorflow/tfjs';
import { installNodeWebGpu } from '../../src/cli/node-env';
import { initBackend } from '../../src/engine/core/backend';
import { makeDataset } from '../../src/engine/poly/data';
import { initMlp, mlpFromSnapshot, snapshotMlp, type LayerQuant } from '../../src/engine/poly/model';
import { intAbsmax, quantizeActivation, quantizeWeight, ternaryAbsmean } from '../../src/engine/core/quant';
import { Rng } from '../../src/engine/core/rng';
import { predict, toDevice, train } from '../../src/engine/poly/train';
import { type CurvePoint } from '../../src/engine/core/loop';

type Arrays = Record<string, number[]>;

/** The quantizers on the current backend, read back asynchronously. */
async function quantizerOutputs(): Promise<Arrays> {
  const rng = new Rng(3);
  const w = Float32Array.from({ length: 14 * 16 }, () => rng.uniform(-1, 1));
  const jobs: Record<string, () => tf.Tensor> = {
    refTernary: () =>
      ternaryAbsmean(
        tf.tensor2d([
          [0.5, -1.2, 0.05, 0],
          [2, -0.3, 0.6, -0.9],
        ]),
      ),
    refInt8Tie: () => intAbsmax(tf.tensor2d([[0.1, -0.5, 0.25, 1.0]]), 8, 1),
    ternary: () => quantizeWeight(tf.tensor2d(w, [14, 16]), { bits: 1.58, granularity: 'row' }),
    int4row: () => quantizeWeight(tf.tensor2d(w, [14, 16]), { bits: 4, granularity: 'row' }),
    int8tensor: () => quantizeWeight(tf.tensor2d(w, [14, 16]), { bits: 8, granularity: 'tensor' }),
    act8: () => quantizeActivation(tf.tensor2d(w, [16, 14]), 8),
    zeros: () => quantizeWeight(tf.zeros([3, 4]), { bits: 4, granularity: 'row' }),
  };
  const out: Arrays = {};
  for (const [name, job] of Object.entries(jobs)) {
    const t = tf.tidy(job);
    out[name] = Array.from(await t.data());
    t.dispose();
  }
  return out;
}

async function main(): Promise<void> {
  const installed = await installNodeWebGpu();
  const info = await initBackend('webgpu');
  const gpuQuant = await quantizerOutputs();

  // A 10-step training run of a width-16, depth-1 model, read back every 2 steps.
  const trainData = toDevice(makeDataset(64, 4, 1));
  const testData = toDevice(makeDataset(32, 4, 2));
  const shown = toDevice(makeDataset(4, 4, 3));
  const m = initMlp([14, 16, 200], 0);
  const counts: number[] = [];
  const out = await train(
    m,
    trainData,
    testData,
    { lr: 3e-3, batch: 32, steps: 10, schedule: 'constant', weightDecay: 0, seed: 0, logEvery: 2 },
    (_p: CurvePoint) => counts.push(tf.memory().numTensors),
  );
  const backendDuringTraining = tf.getBackend();

  // A fake-quantized forward pass (ternary weights + int8 activations, then int4 weights).
  const quant: LayerQuant[] = [
    { weight: { kind: 'lab', bits: 1.58, granularity: 'row' }, actBits: 8 },
    { weight: { kind: 'lab', bits: 4, granularity: 'row' }, actBits: 0 },
  ];
  const fqGpu = (await predict(m, shown.x, quant)).flat();
  const snapshot = await snapshotMlp(m);

  // The same on the cpu backend.
  await tf.setBackend('cpu');
  await tf.ready();
  const cpuQuant = await quantizerOutputs();
  const shownCpu = toDevice(makeDataset(4, 4, 3));
  const mc = mlpFromSnapshot(snapshot);
  const fqCpu = (await predict(mc, shownCpu.x, quant)).flat();

  process.stdout.write(
    JSON.stringify({
      installed,
      backend: info.name,
      adapter: info.adapter,
      notes: info.notes,
      backendDuringTraining,
      curve: out.curve,
      stepsDone: out.stepsDone,
      diverged: out.diverged,
      counts,
      gpuQuant,
      cpuQuant,
      fqGpu,
      fqCpu,
    }) + '\n',
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`webgpu-probe: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
