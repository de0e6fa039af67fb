/**
 * Quantizer schedules of QAFT and scratch: delayed fake-quant (`qdelay`) and gradual bit
 * reduction (`bitsched`, e.g. 8@0,4@0.3,2@0.6). LSQ, scale-only, RTN and GPTQ ignore them.
 */
import { useEffect, useId, useState } from 'react';
import { BitScheduleSchema, formatBitSchedule, readBitSchedule, type BitStep } from '../../engine/core/config';
import { configProblems, problemsAt } from '../problems';
import { useLab } from '../store';
import { NumberField, Row } from './fields';
import { Panel } from './Panel';

function BitScheduleField() {
  const id = useId();
  const value = useLab((s) => s.config.quant.bitSchedule);
  const config = useLab((s) => s.config);
  const setField = useLab((s) => s.setField);
  const text = formatBitSchedule(value);
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDraft(null);
    setError(null);
  }, [text]);
  const commit = (raw: string) => {
    setDraft(raw);
    const read = readBitSchedule(raw);
    if ('error' in read) return setError(`Bit schedule: ${read.error}.`);
    const r = BitScheduleSchema.safeParse(read.value);
    if (!r.success) return setError(`Bit schedule: ${r.error.issues[0]?.message ?? 'invalid'}.`);
    setError(null);
    if (formatBitSchedule(r.data as BitStep[]) !== text) setField(['quant', 'bitSchedule'], r.data);
  };
  const last = value[value.length - 1];
  const hint = last
    ? `Bits ${value.map((e) => `${e.bits} from ${Math.round(e.at * 100)} %`).join(', ')} of the run; the run ends, and is evaluated, at ${last.bits} bits.`
    : 'Off: one bit-width throughout. E.g. 8@0,4@0.3,2@0.6 = 8 bits, 4 from 30 %, 2 from 60 % of the steps.';
  return (
    <Row id={id} label="Bit schedule" hint={hint} error={error ?? problemsAt(configProblems(config), 'bitsched')}>
      <input
        id={id}
        data-testid="input-bitsched"
        type="text"
        spellCheck={false}
        placeholder="off"
        value={draft ?? text}
        aria-invalid={error ? true : undefined}
        onChange={(e) => commit(e.target.value)}
        onBlur={() => {
          if (!error) setDraft(null);
        }}
      />
    </Row>
  );
}

export function SchedulePanel() {
  const delay = useLab((s) => s.config.quant.delay);
  return (
    <Panel
      title="Quantizer schedule (QAFT, scratch)"
      note="When fake quantization starts and which bits it uses over the run. RTN, GPTQ, LSQ and scale-only ignore it."
    >
      <NumberField
        label="Full precision for the first (steps)"
        path={['quant', 'delay']}
        testId="input-qdelay"
        min={0}
        hint={delay > 0 ? `Steps 1–${delay} train unquantized, then fake quantization is on.` : 'Off: fake quantization from the first step.'}
      />
      <BitScheduleField />
    </Panel>
  );
}
