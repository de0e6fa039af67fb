/**
 * Experiments to start from: each is a share link (the same readable URL the page writes) that
 * opens the settings and starts what it names, with what a user should expect to see. The page
 * lists them; `npm run lab -- <id>` runs one headless; the PTQ-vs-QAFT claims are tested on
 * exactly these links (test/ptq-science.test.ts).
 */

export interface Preset {
  id: string;
  title: string;
  /** Share-link parameters, `run=…` included. */
  params: string;
  /** What the experiment shows, in a sentence or two. */
  shows: string;
}

/**
 * A narrow MLP (14 → 32 × 3 → 200) trained to convergence, then PTQ vs QAFT on 128 examples at
 * int3 and int2. Measured (3 seeds): GPTQ cuts every layer's local error far below RTN's, yet QAFT
 * on the same 128 examples ends 10–25 % below GPTQ at int3 and 2.5–4× below it at int2, while FP
 * fine-tuned on those 128 examples gets worse, not better (so QAFT's lead is not extra training).
 */
export const PTQ_NARROW =
  'v=1&width=32&depth=3&ntrain=8192&ntest=512&fp_lr=3e-3&fp_steps=6000&budget=128&lr=1e-3&batch=128&steps=300&sweep_bits=3,2&sweep_lr=3e-4,1e-3,3e-3';

/** The default 512 × 4 MLP under the same 128-example PTQ-vs-QAFT comparison. */
export const PTQ_WIDE = 'v=1&budget=128&sweep_bits=3,2&sweep_lr=1e-5,1e-4,1e-3&lr=1e-5';

export const PRESETS: readonly Preset[] = [
  {
    id: 'qaft-vs-scratch',
    title: 'QAFT vs scratch at 1.58 bits',
    params: 'v=1&run=1',
    shows:
      'The default comparison on the 512 × 4 MLP: FP, then RTN, QAFT from the FP weights and the same quantized training from scratch. ' +
      'At equal budget QAFT ends far below scratch and recovers most of what RTN loses.',
  },
  {
    id: 'ptq-narrow',
    title: 'PTQ vs QAFT where GPTQ falls short (the paper’s ordering)',
    params: `${PTQ_NARROW}&run=ptq`,
    shows:
      'A narrow MLP (32 × 3) trained to convergence; RTN, GPTQ and QAFT at int3 and int2 with the same 128 examples. GPTQ lowers every ' +
      'layer’s local error far below RTN’s, yet QAFT reaches the lower test loss: see “Local vs global” and “Loss landscape”.',
  },
  {
    id: 'ptq-wide',
    title: 'PTQ vs QAFT where GPTQ holds',
    params: `${PTQ_WIDE}&run=ptq`,
    shows:
      'The wide default MLP (512 × 4, 1500 FP steps) under the same comparison. Its 14 inputs leave the hidden activations on a ' +
      'low-dimensional set that 128 examples cover, so GPTQ corrects almost all rounding error (within about 1 % of FP at int3), while ' +
      'QAFT with 800k weights overfits 128 examples. Then press Run sweep for QAFT’s best learning rate per bit-width.',
  },
  {
    id: 'ptq-wide-long',
    title: 'PTQ vs QAFT: the wide MLP trained 8× longer',
    params: 'v=1&budget=128&fp_steps=12000&lr=1e-4&sweep_bits=3,2&run=ptq',
    shows:
      'The same wide MLP with 12000 FP steps instead of 1500 (minutes on a GPU, about 20 on a laptop CPU). Converged, its test MSE ' +
      'drops 3×, and GPTQ no longer keeps up: at int3 it lands at 2.5× FP, level with QAFT; at int2 QAFT ends 2.5× below GPTQ.',
  },
  {
    id: 'rotation-int3',
    title: 'Hadamard rotation rescues a per-tensor int3 grid',
    params: `${PTQ_NARROW}&layers=nofirst&gran=tensor&rot=hadamard&run=ptq`,
    shows:
      'The narrow MLP with one int3 scale per weight matrix, quantized in a randomized Hadamard basis of each layer’s inputs. A per-tensor ' +
      'scale is set by the largest weight; the rotation spreads the large weights over every input, so the grid fits the rest better. ' +
      'Measured (wasm, one seed): RTN 0.140 → 0.062 and GPTQ 0.026 → 0.019 test MSE without → with the rotation (FP 0.0067). Set ' +
      'Rotation to none and press PTQ vs QAFT again to see the unrotated runs; the Weights view shows each layer’s kurtosis before → after.',
  },
  {
    id: 'lm-ptq',
    title: 'Small GPT: RTN vs GPTQ vs QAFT at int3',
    params: 'v=1&task=lm&budget=128&run=1',
    shows:
      'The character-level GPT from the shipped checkpoint, attention and MLP weights at 3 bits, 128 calibration / training sequences. ' +
      'QAFT ends below GPTQ, which ends far below RTN; every model writes a sample from the same prompt.',
  },
  {
    id: 'lm-formats',
    title: 'Small GPT: int4 g128 vs MXFP4 vs NVFP4 vs FP8, by RTN, GPTQ and QAFT',
    params: 'v=1&task=lm&budget=128&run=formats',
    shows:
      'The shipped character-level GPT with its attention and MLP weights in each format people ship: int4 with a scale and zero point per 128 ' +
      'inputs, MXFP4 (E2M1, E8M0 scale per 32), NVFP4 (E2M1, E4M3 scale per 16 and an FP32 tensor scale) and FP8 E4M3 per channel, each by ' +
      'RTN, GPTQ and QAFT on 128 sequences (12 runs). Compare them in the table and in “Error vs size” (the scales are counted: MXFP4 is ' +
      '4.25 bits per weight, NVFP4 4.5), and open “Block inspector” to see where each format’s worst block rounds.',
  },
];

/** The preset with this id, if any. */
export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}
