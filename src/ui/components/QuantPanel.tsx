/**
 * The quantizer: bits, scheme (the zoo), granularity with group/block size, clipping, which
 * layers, activation bits. Settings that do not fit together are shown at the field their
 * URL key names (configProblems), and the run buttons stay disabled until they are fixed.
 */
import { BITS, GRANULARITIES, LAYER_SETS, QUANT_SCHEMES, isFullPrecision, layerDims, type Bits, type QuantScheme } from '../../engine/core/config';
import { CLIPS, GROUP_SIZES } from '../../engine/core/quantizers/spec';
import { layerWeightQuant, modelStorageBits } from '../../engine/poly/layerspec';
import { weightQuantLabel } from '../../engine/core/layerquant';
import { configProblems, problemsAt } from '../problems';
import { fmtKib, fmtLayerQuant } from '../runs';
import { useLab } from '../store';
import { NumberField, SelectField, type Option } from './fields';
import { Panel } from './Panel';

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
};
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
};
export const schemeOptions: Option<QuantScheme>[] = QUANT_SCHEMES.map((s) => ({ value: s, label: SCHEME_LABEL[s] }));

/** Schemes that exist at one bit-width only: picking one sets the bits too. */
export const SCHEME_BITS: Partial<Record<QuantScheme, Bits>> = { ternary: 1.58, binary: 1, nf4: 4 };

const GRAN_LABEL: Record<(typeof GRANULARITIES)[number], string> = {
  row: 'per channel',
  tensor: 'per tensor',
  group: 'per group (g)',
  block: 'per block (B)',
};
export const granOptions: Option<string>[] = GRANULARITIES.map((g) => ({ value: g, label: GRAN_LABEL[g] }));
export const clipOptions: Option<string>[] = CLIPS.map((c) => ({ value: c, label: c === 'none' ? 'none' : 'MSE search' }));
const layerLabel: Record<(typeof LAYER_SETS)[number], string> = {
  all: 'all layers',
  inner: 'hidden layers only',
  nofirst: 'all but the first',
  nolast: 'all but the last',
};
const layerOptions: Option<string>[] = LAYER_SETS.map((l) => ({ value: l, label: layerLabel[l] }));
export const abitOptions: Option<number>[] = [0, 2, 3, 4, 5, 6, 7, 8].map((b) => ({ value: b, label: b === 0 ? 'off (full precision)' : `${b} bit` }));

function granHint(gran: string, g: number): string {
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
    <Panel title="Quantizer" footer={<Resolved />}>
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
            : granHint(granularity, groupSize)
        }
        groupHint={
          granularity === 'group' || granularity === 'block' ? `Common: ${GROUP_SIZES.join(', ')}; or any number.` : 'Used by group and block granularity only.'
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
        hint="Absmax per example on each quantized layer's input."
      />
    </Panel>
  );
}
