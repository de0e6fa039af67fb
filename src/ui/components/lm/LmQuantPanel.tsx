/**
 * The LM's quantizer: bits per component (embeddings, attention, MLP, output head) and the
 * scheme, granularity, group size, clipping and activation bits shared with the toy.
 */
import { BITS, isFullPrecision, type QuantScheme } from '../../../engine/core/config';
import { weightQuantLabel } from '../../../engine/core/layerquant';
import { LM_BITS_KEY, LM_BITS_URL_KEY, LM_COMPONENTS, lmComponentQuant, type LmComponent } from '../../../engine/lm/spec';
import { GROUP_SIZES } from '../../../engine/core/quantizers/spec';
import { configProblems, problemsAt } from '../../problems';
import { useLab } from '../../store';
import { SelectField, type Option } from '../fields';
import { Panel } from '../Panel';
import { ActFields } from '../ActFields';
import { abitOptions, formatGranularityHint, formatGroupHint, SCHEME_BITS, SCHEME_HINT, SchemeFields } from '../QuantPanel';

const COMPONENT_LABEL: Record<LmComponent, string> = { embed: 'Embedding bits', attn: 'Attention bits', mlp: 'MLP bits', head: 'Output head bits' };
const COMPONENT_HINT: Record<LmComponent, string> = {
  embed: 'Token and position embeddings.',
  attn: 'qkv and output projections of every block.',
  mlp: 'Both MLP linears of every block.',
  head: 'Projection onto the vocabulary (tied to the token embedding).',
};
const lmBitOptions: Option<number>[] = BITS.map((b) => ({
  value: b,
  label: b === 1 ? '1 (binary)' : b === 1.58 ? '1.58 (ternary)' : isFullPrecision(b) ? `FP${b}` : String(b),
}));

function Resolved() {
  const config = useLab((s) => s.config);
  if (configProblems(config).length) return null;
  return <span data-testid="lm-quant-resolved">{LM_COMPONENTS.map((k) => `${k}: ${weightQuantLabel(lmComponentQuant(config, k))}`).join(' · ')}</span>;
}

export function LmQuantPanel() {
  const config = useLab((s) => s.config);
  const setConfig = useLab((s) => s.setConfig);
  const { granularity, groupSize, scheme } = config.quant;
  const problems = configProblems(config);
  // Schemes that exist at one bit-width only: picking one sets every quantized component to it.
  const pickScheme = (v: QuantScheme) => {
    const next = structuredClone(config);
    next.quant.scheme = v;
    const fixed = SCHEME_BITS[v];
    if (fixed !== undefined) for (const k of LM_COMPONENTS) if (!isFullPrecision(next.lm[LM_BITS_KEY[k]])) next.lm[LM_BITS_KEY[k]] = fixed;
    setConfig(next);
  };
  return (
    <Panel title="Quantizer" testId="lm-quant-panel" footer={<Resolved />} note="Bits per component (FP16/FP32: not quantized), then the quantizer they share.">
      {LM_COMPONENTS.map((k) => (
        <SelectField
          key={k}
          label={COMPONENT_LABEL[k]}
          path={['lm', LM_BITS_KEY[k]]}
          testId={`input-${LM_BITS_URL_KEY[k].replace('_', '-')}`}
          options={lmBitOptions}
          hint={COMPONENT_HINT[k]}
          problem={problemsAt(problems, LM_BITS_URL_KEY[k])}
        />
      ))}
      <SchemeFields
        problems={problems}
        pickScheme={pickScheme}
        schemeHint={SCHEME_HINT[scheme] + (SCHEME_BITS[scheme] !== undefined ? ' Picking it sets the bits of the quantized components.' : '')}
        granularityHint={
          formatGranularityHint(scheme, granularity) ??
          (granularity === 'group'
            ? `One scale per ${groupSize} consecutive inputs of an output channel; g must divide d_model (and 4·d_model).`
            : granularity === 'row'
              ? 'One scale per output channel (ternary: per tensor).'
              : undefined)
        }
        groupHint={
          formatGroupHint(scheme) ??
          (granularity === 'group' || granularity === 'block' ? `Common: ${GROUP_SIZES.join(', ')}.` : 'Used by group and block granularity only.')
        }
        listId="lm-group-sizes"
      />
      <SelectField
        label="Activation bits"
        path={['quant', 'actBits']}
        testId="input-abits"
        options={abitOptions}
        hint="Absmax per token on each quantized linear's input (or as set below)."
      />
      <ActFields what="token" />
    </Panel>
  );
}
