/**
 * The quantizer: bits, scheme (the zoo), granularity with group/block size, clipping, which
 * layers, activation bits. Settings that do not fit together are shown at the field their
 * URL key names (configProblems), and the run buttons stay disabled until they are fixed.
 */
import { BITS, GRANULARITIES, LAYER_SETS, QUANT_SCHEMES, ROTATIONS, isFullPrecision, layerDims, type Bits, type QuantScheme } from '../../engine/core/config';
import { FORMAT_INFO, FORMAT_SCHEMES, formatInfo, type FormatScheme } from '../../engine/core/quantizers/formats';
import { CLIPS, GROUP_SIZES } from '../../engine/core/quantizers/spec';
import { layerWeightQuant, modelStorageBits } from '../../engine/poly/layerspec';
import { weightQuantLabel } from '../../engine/core/layerquant';
import { configProblems, problemsAt } from '../problems';
import { fmtKib, fmtLayerQuant } from '../runs';
import { useLab } from '../store';
import { NumberField, SelectField, type Option } from './fields';
import { Panel } from './Panel';
import { ActFields } from './ActFields';

export const bitOptions: Option<number>[] = BITS.map((b) => ({
  value: b,
  label: b === 1 ? '1 (binary)' : b === 1.58 ? '1.58 (ternary)' : isFullPrecision(b) ? `${b} (no quantization)` : String(b),
}));

export const SCHEME_LABEL: Record<QuantScheme, string> = {
  auto: 'auto',
  'sym-narrow': 'symmetric (narrow)',
  'sym-full': 'symmetric (full range)',
  asym: 'asymmetric',
  ternary: 'ternary (absmean)',
  binary: 'binary (sign)',
  kmeans: 'k-means codebook',
  nf4: 'NF4',
  'fp8-e4m3': 'FP8 E4M3 (8 bits)',
  'fp8-e5m2': 'FP8 E5M2 (8 bits)',
  'mxfp8-e4m3': 'MXFP8 E4M3 (8.25 bits)',
  'mxfp8-e5m2': 'MXFP8 E5M2 (8.25 bits)',
  'mxfp6-e2m3': 'MXFP6 E2M3 (6.25 bits)',
  'mxfp6-e3m2': 'MXFP6 E3M2 (6.25 bits)',
  mxfp4: 'MXFP4 (4.25 bits)',
  mxint8: 'MXINT8 (8.25 bits)',
  nvfp4: 'NVFP4 (4.5 bits)',
};
const mxHint = (elem: string) =>
  `${elem} elements sharing one power-of-two (E8M0) scale per 32 consecutive inputs (OCP MX); the block is fixed: granularity and group size are not used.`;
/** One sentence per scheme, under the select. */
export const SCHEME_HINT: Record<QuantScheme, string> = {
  auto: 'Symmetric absmax W·(2^(b−1)−1)/max|W|; ternary absmean at 1.58 bits, binary at 1.',
  'sym-narrow': 'Integers −(2^(b−1)−1)…2^(b−1)−1 times a scale (symmetric, zero exact).',
  'sym-full': 'Integers −2^(b−1)…2^(b−1)−1: one more negative level than narrow.',
  asym: 'Integers 0…2^b−1 with a scale and a zero point from the min and max.',
  ternary: '{−1, 0, 1} times the mean |W| (BitNet b1.58); 1.58 bits only.',
  binary: '±mean |W| by the sign of each weight; 1 bit only.',
  kmeans: '2^b levels placed where the weights are dense (Lloyd), stored as a codebook.',
  nf4: '16 levels at normal quantiles times the absmax (QLoRA); 4 bits only.',
  'fp8-e4m3': 'FP8 E4M3 (max 448, 3 mantissa bits) times an FP32 scale amax/448, per channel or per tensor.',
  'fp8-e5m2': 'FP8 E5M2 (max 57344, 2 mantissa bits) times an FP32 scale amax/57344, per channel or per tensor.',
  'mxfp8-e4m3': mxHint('FP8 E4M3'),
  'mxfp8-e5m2': mxHint('FP8 E5M2'),
  'mxfp6-e2m3': mxHint('FP6 E2M3 (max 7.5)'),
  'mxfp6-e3m2': mxHint('FP6 E3M2 (max 28)'),
  mxfp4: mxHint('FP4 E2M1 (±0, 0.5, 1, 1.5, 2, 3, 4, 6)'),
  mxint8: mxHint('8-bit integer (k/64)'),
  nvfp4:
    'FP4 E2M1 elements, an FP8 E4M3 scale per 16 consecutive inputs and an FP32 tensor scale (NVIDIA); the block is fixed: granularity and group size are not used.',
};
export const schemeOptions: Option<QuantScheme>[] = QUANT_SCHEMES.map((s) => ({ value: s, label: SCHEME_LABEL[s] }));

/** Schemes that exist at one bit-width only: picking one sets the bits too. */
export const SCHEME_BITS: Partial<Record<QuantScheme, Bits>> = {
  ternary: 1.58,
  binary: 1,
  nf4: 4,
  ...Object.fromEntries(FORMAT_SCHEMES.map((f: FormatScheme) => [f, FORMAT_INFO[f].bits as Bits])),
};

const GRAN_LABEL: Record<(typeof GRANULARITIES)[number], string> = {
  row: 'per channel',
  tensor: 'per tensor',
  group: 'per group (g)',
  block: 'per block (B)',
};
export const granOptions: Option<string>[] = GRANULARITIES.map((g) => ({ value: g, label: GRAN_LABEL[g] }));
export const rotationOptions: Option<string>[] = ROTATIONS.map((r) => ({ value: r, label: r === 'none' ? 'none' : 'Hadamard' }));
export const clipOptions: Option<string>[] = CLIPS.map((c) => ({ value: c, label: c === 'none' ? 'none' : 'MSE search' }));
const layerLabel: Record<(typeof LAYER_SETS)[number], string> = {
  all: 'all layers',
  inner: 'hidden layers only',
  nofirst: 'all but the first',
  nolast: 'all but the last',
};
const layerOptions: Option<string>[] = LAYER_SETS.map((l) => ({ value: l, label: layerLabel[l] }));
export const abitOptions: Option<number>[] = [0, 2, 3, 4, 5, 6, 7, 8].map((b) => ({ value: b, label: b === 0 ? 'off (full precision)' : `${b} bit` }));

/** The granularity hint of the formats (undefined for the other schemes): the block ones fix their own. */
export function formatGranularityHint(scheme: QuantScheme, gran: string): string | undefined {
  const f = formatInfo(scheme);
  if (!f) return undefined;
  if (f.block !== undefined)
    return `${f.label} fixes its blocks: one scale per ${f.block} consecutive inputs of an output channel (a short last block gets its own).`;
  return gran === 'row'
    ? 'One FP32 scale per output channel.'
    : gran === 'tensor'
      ? 'One FP32 scale for the whole matrix.'
      : 'FP8 takes per channel or per tensor.';
}

/** The group-size hint of the block formats (their block is fixed); undefined otherwise. */
export function formatGroupHint(scheme: QuantScheme): string | undefined {
  const f = formatInfo(scheme);
  return f?.block !== undefined ? `Not used by ${f.label}: its blocks are ${f.block} inputs.` : undefined;
}

function granHint(gran: string, g: number, scheme: QuantScheme): string {
  const f = formatGranularityHint(scheme, gran);
  if (f) return f;
  switch (gran) {
    case 'row':
      return 'One scale per output channel (row of W).';
    case 'tensor':
      return 'One scale for the whole weight matrix.';
    case 'group':
      return `One scale per ${g} consecutive inputs of an output channel; g must divide every layer's inputs (the first has 14).`;
    default:
      return `One scale per ${g} consecutive weights of the flattened matrix; blocks may cross channels (bitsandbytes).`;
  }
}

/** What each layer is quantized with, and the storage, as the engine resolves the config. */
function Resolved() {
  const config = useLab((s) => s.config);
  const problems = configProblems(config);
  if (problems.length) return null;
  const n = layerDims(config.model).length - 1;
  const labels = Array.from({ length: n }, (_, i) => weightQuantLabel(layerWeightQuant(config, i)));
  const bits = modelStorageBits(config, true);
  return (
    <span data-testid="quant-resolved">
      Layers: {fmtLayerQuant(labels)}. Weights stored in {fmtKib(bits)} (FP32: {fmtKib(modelStorageBits(config, false))}).
    </span>
  );
}

/** Scheme, granularity, group size and clipping: the quantizer settings the toy and the LM share. */
export function SchemeFields({
  problems,
  pickScheme,
  schemeHint,
  granularityHint,
  groupHint,
  clipHint,
  listId,
}: {
  problems: ReturnType<typeof configProblems>;
  pickScheme: (v: QuantScheme) => void;
  schemeHint: string;
  granularityHint?: string;
  groupHint: string;
  clipHint?: string;
  listId: string;
}) {
  const granularity = useLab((st) => st.config.quant.granularity);
  const rotate = useLab((st) => st.config.quant.rotate);
  return (
    <>
      <SelectField
        label="Scheme"
        path={['quant', 'scheme']}
        testId="input-scheme"
        options={schemeOptions}
        onPick={pickScheme}
        problem={problemsAt(problems, 'scheme')}
        hint={schemeHint}
      />
      <SelectField
        label="Granularity"
        path={['quant', 'granularity']}
        testId="input-gran"
        options={granOptions}
        problem={problemsAt(problems, 'gran')}
        hint={granularityHint}
      />
      <NumberField
        label={granularity === 'block' ? 'Block size B' : 'Group size g'}
        path={['quant', 'groupSize']}
        testId="input-group"
        min={1}
        list={listId}
        problem={problemsAt(problems, 'group')}
        hint={groupHint}
      />
      <datalist id={listId}>
        {GROUP_SIZES.map((g) => (
          <option key={g} value={g} />
        ))}
      </datalist>
      <SelectField label="Clipping" path={['quant', 'clip']} testId="input-clip" options={clipOptions} problem={problemsAt(problems, 'clip')} hint={clipHint} />
      <SelectField
        label="Rotation"
        path={['quant', 'rotate']}
        testId="input-rot"
        options={rotationOptions}
        problem={problemsAt(problems, 'rot')}
        hint={
          rotate === 'hadamard'
            ? 'Randomized Hadamard rotation of each quantized layer’s inputs (QuaRot): online on the MLP; folded through the RMSNorms of the transformer, online before attention out and MLP proj. The FP function is unchanged.'
            : 'Weights are quantized as stored.'
        }
      />
      {rotate === 'hadamard' ? (
        <NumberField
          label="Rotation seed"
          path={['quant', 'rotSeed']}
          testId="input-rot-seed"
          min={0}
          problem={problemsAt(problems, 'rot_seed')}
          hint="The random signs of the Hadamard rotations."
        />
      ) : null}
    </>
  );
}

export function QuantPanel() {
  const config = useLab((s) => s.config);
  const setConfig = useLab((s) => s.setConfig);
  const { bits, granularity, groupSize, scheme } = config.quant;
  const problems = configProblems(config);
  const full = isFullPrecision(bits);
  const pickScheme = (v: QuantScheme) => {
    const next = structuredClone(config);
    next.quant.scheme = v;
    const fixed = SCHEME_BITS[v];
    if (fixed !== undefined) next.quant.bits = fixed;
    setConfig(next);
  };
  return (
    <Panel title="Quantizer" testId="quant-panel" footer={<Resolved />}>
      <SelectField
        label="Weight bits"
        path={['quant', 'bits']}
        testId="input-bits"
        options={bitOptions}
        hint={full ? 'No quantization: every method gives the FP model.' : undefined}
      />
      <SchemeFields
        problems={problems}
        pickScheme={pickScheme}
        schemeHint={SCHEME_HINT[scheme] + (SCHEME_BITS[scheme] !== undefined ? ' Picking it sets the bits.' : '')}
        granularityHint={
          scheme === 'auto' && bits === 1.58 && (granularity === 'row' || granularity === 'tensor')
            ? 'auto at 1.58 bits: one absmean scale per tensor.'
            : granHint(granularity, groupSize, scheme)
        }
        groupHint={
          formatGroupHint(scheme) ??
          (granularity === 'group' || granularity === 'block'
            ? `Common: ${GROUP_SIZES.join(', ')}; or any number.`
            : 'Used by group and block granularity only.')
        }
        clipHint={
          config.quant.clip === 'mse' ? 'The scale is shrunk where that lowers the rounding error (GPTQ quant.py).' : 'Scale from the absmax (or min and max).'
        }
        listId="group-sizes"
      />
      <SelectField
        label="Quantized layers"
        path={['quant', 'layers']}
        testId="input-layers"
        options={layerOptions}
        hint="Per-layer overrides below take precedence."
      />
      <SelectField
        label="Activation bits"
        path={['quant', 'actBits']}
        testId="input-abits"
        options={abitOptions}
        hint="Absmax per example on each quantized layer's input (or as set below)."
      />
      <ActFields what="example" />
    </Panel>
  );
}
