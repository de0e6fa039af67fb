/**
 * Mixed precision: per linear layer, inherit the quantizer above or give the layer its own
 * bits and scheme (config.quant.overrides, URL key `lq`).
 */
import { layerDims, type Bits, type LayerOverride, type QuantScheme } from '../../engine/core/config';
import { layerWeightQuant } from '../../engine/poly/layerspec';
import { weightQuantLabel } from '../../engine/core/layerquant';
import { configProblems, problemsAt } from '../problems';
import { useLab } from '../store';
import { Panel } from './Panel';
import { bitOptions, SCHEME_BITS, schemeOptions } from './QuantPanel';

const INHERIT = 'inherit';

export function Overrides() {
  const config = useLab((s) => s.config);
  const setField = useLab((s) => s.setField);
  const dims = layerDims(config.model);
  const n = dims.length - 1;
  const overrides = config.quant.overrides;
  const problem = problemsAt(configProblems(config), 'lq');
  const write = (next: LayerOverride[]) =>
    setField(
      ['quant', 'overrides'],
      [...next].sort((a, b) => a.layer - b.layer),
    );
  const setLayer = (layer: number, o: Omit<LayerOverride, 'layer'> | null) => {
    const rest = overrides.filter((x) => x.layer !== layer);
    write(o ? [...rest, { layer, ...o }] : rest);
  };
  const firstLast8 = () => {
    const rest = overrides.filter((x) => x.layer !== 0 && x.layer !== n - 1);
    write([...rest, { layer: 0, bits: 8, scheme: 'auto' }, { layer: n - 1, bits: 8, scheme: 'auto' }]);
  };
  return (
    <Panel
      title="Mixed precision (per layer)"
      testId="overrides"
      note="A layer with its own bits uses them (and its own scheme) whatever the settings above say; 'inherit' follows them."
    >
      <table className="overrides">
        <thead>
          <tr>
            <th>Layer</th>
            <th>Bits</th>
            <th>Scheme</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: n }, (_, i) => {
            const o = overrides.find((x) => x.layer === i);
            const label = weightQuantLabel(layerWeightQuant(config, i));
            return (
              <tr key={i} className={o ? 'overridden' : ''}>
                <td title={`${dims[i]} inputs → ${dims[i + 1]} outputs`}>
                  {i} <span className="muted small">{`${dims[i]}→${dims[i + 1]}`}</span>
                  <div className="muted small lq-label" data-testid={`lq-${i}-label`}>
                    {label}
                  </div>
                </td>
                <td>
                  <select
                    data-testid={`input-lq-${i}-bits`}
                    aria-label={`Layer ${i} bits`}
                    value={o ? String(o.bits) : INHERIT}
                    onChange={(e) => {
                      if (e.target.value === INHERIT) return setLayer(i, null);
                      const bits = Number(e.target.value) as Bits;
                      const scheme = o?.scheme ?? 'auto';
                      setLayer(i, { bits, scheme: SCHEME_BITS[scheme] !== undefined && SCHEME_BITS[scheme] !== bits ? 'auto' : scheme });
                    }}
                  >
                    <option value={INHERIT}>inherit</option>
                    {bitOptions.map((b) => (
                      <option key={b.value} value={String(b.value)}>
                        {b.value}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <select
                    data-testid={`input-lq-${i}-scheme`}
                    aria-label={`Layer ${i} scheme`}
                    disabled={!o}
                    value={o ? o.scheme : INHERIT}
                    onChange={(e) => {
                      if (!o) return;
                      const scheme = e.target.value as QuantScheme;
                      setLayer(i, { bits: SCHEME_BITS[scheme] ?? o.bits, scheme });
                    }}
                  >
                    {o ? null : <option value={INHERIT}>inherit</option>}
                    {schemeOptions.map((s) => (
                      <option key={s.value} value={s.value}>
                        {s.value}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {problem ? (
        <div className="field-error" role="alert" data-testid="lq-problem">
          {problem}
        </div>
      ) : null}
      <div className="panel-buttons">
        <button
          type="button"
          data-testid="lq-first-last-8"
          onClick={firstLast8}
          title="Keep the first and the last layer at 8 bits (a common mixed-precision choice)"
        >
          First and last at 8 bits
        </button>
        <button type="button" data-testid="lq-clear" disabled={overrides.length === 0} onClick={() => write([])}>
          Clear
        </button>
      </div>
    </Panel>
  );
}
