/**
 * The loss landscape around the FP model: the test loss along straight lines FP→RTN, FP→GPTQ,
 * FP→QAFT and RTN→QAFT, and along random directions from FP, computed in the worker on the
 * weights it keeps from this page session.
 */
import { fpKey } from '../../engine/tasks';
import { formatBits } from '../../engine/core/config';
import { computeLandscape, fpUnavailable, landscapeTargets, LINE_TS, RADIAL_DIRECTIONS, RADIAL_REACH, RADIAL_STEPS } from '../probes';
import { isWorking, useLab } from '../store';
import { LineChartView, RadialChartView } from './LandscapeCharts';
import { BitsPicker, Empty, Notes, ProbeProgress, useOtherSettingsHint, useViewBits } from './ViewParts';
import { ExportableFigure } from './ExportableFigure';

export function LandscapeView() {
  const runs = useLab((s) => s.runs);
  const config = useLab((s) => s.config);
  const sessionIds = useLab((s) => s.sessionRunIds);
  const view = useLab((s) => s.landscape);
  const working = useLab(isWorking);
  const noFp = useLab((s) => fpUnavailable(s, s.config));
  const { bits } = useViewBits();
  const other = useOtherSettingsHint();
  const targets = bits === null ? null : landscapeTargets(runs, config, bits, sessionIds);
  const canCompute = !working && !noFp && targets !== null && targets.lines.length > 0;
  const stale = view && (view.fpKey !== fpKey(config) || view.bits !== bits);
  // A view shipped with a guided tour: its weights are not in this page, so the notes about missing weights do not apply.
  const shipped = view?.source && !stale ? view : null;
  return (
    <div data-testid="view-landscape" className="view">
      <div className="view-head">
        <p className="view-intro">
          Where the quantized models sit in weight space. Left: the test loss on the straight line from A to B, t from −0.25 to 1.25 ({LINE_TS.length} points;
          every point is evaluated in full precision, the quantized models are just points in weight space). Right: the loss along {RADIAL_DIRECTIONS} random
          directions from FP, out to {RADIAL_REACH}× the farthest quantized model ({RADIAL_STEPS} distances).
        </p>
        <div className="view-actions">
          <BitsPicker testId="input-landscape-bits" />
          <button type="button" className="primary" data-testid="run-landscape" disabled={!canCompute} onClick={() => bits !== null && computeLandscape(bits)}>
            Compute landscape
          </button>
        </div>
      </div>
      <ProbeProgress kind="landscape" />
      {bits === null ? (
        <Empty>No RTN, GPTQ or QAFT runs for these settings yet. Press PTQ vs QAFT, then Compute landscape.{other}</Empty>
      ) : (
        <>
          {targets && targets.lines.length ? (
            <p className="muted small" data-testid="landscape-targets">
              Lines at {formatBits(bits)}: {targets.lines.map(([a, b]) => `${a.label} → ${b.label}`).join(', ')}.
            </p>
          ) : null}
          {shipped ? (
            <p className="muted small" data-testid="landscape-source">
              {shipped.source}
            </p>
          ) : (
            <>
              {noFp ? <Notes notes={[noFp]} testId="landscape-nofp" /> : null}
              <Notes notes={[...new Set([...(targets?.notes ?? []), ...(view && !stale ? view.notes : [])])]} testId="landscape-missing" />
            </>
          )}
        </>
      )}
      {view ? (
        <>
          {stale ? (
            <p className="stale" data-testid="landscape-stale">
              Computed at {formatBits(view.bits)}
              {view.fpKey !== fpKey(config) ? ' for other data, model or FP settings' : ''}; press Compute landscape to update.
            </p>
          ) : null}
          <ExportableFigure name="landscape" title={`Loss landscape at ${formatBits(view.bits)}`}>
            <div className="two-charts even">
              {view.lines.length ? <LineChartView view={view} /> : <Empty>No line could be computed.</Empty>}
              {view.radial.length ? <RadialChartView view={view} /> : <Empty>No radial sweep (no quantized model to set the distance scale).</Empty>}
            </div>
          </ExportableFigure>
        </>
      ) : bits !== null ? (
        <Empty>
          {targets && targets.lines.length
            ? 'Press Compute landscape to evaluate the lines and the radial sweeps.'
            : 'No run of this page session has weights to probe: runs restored from an earlier session keep their results only. Press PTQ vs QAFT first.'}
        </Empty>
      ) : null}
    </div>
  );
}
