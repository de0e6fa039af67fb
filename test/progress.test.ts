/** The progress line the page and the CLI show: rate per step and per sample or token, elapsed, time left. */
import { describe, expect, it } from 'vitest';
import { fmtDuration, progressText, stepsPerSecond, unitsPerSecond } from '../src/engine/core/progress';

describe('progress', () => {
  it('formats durations', () => {
    expect(fmtDuration(850)).toBe('850 ms');
    expect(fmtDuration(42_400)).toBe('42 s');
    expect(fmtDuration(185_000)).toBe('3 min 5 s');
    expect(fmtDuration(3_840_000)).toBe('1 h 4 min');
    expect(fmtDuration(NaN)).toBe('–');
  });

  it('gives samples/s or tokens/s from steps/s, and the time left at that rate', () => {
    expect(progressText(100, 400, 12.5, 8000, { unit: 'samples', perStep: 256 })).toBe('3200 samples/s (12.5 steps/s), 8 s elapsed, 24 s left');
    expect(progressText(50, 300, 2, 25_000, { unit: 'tokens', perStep: 32 * 64 })).toBe('4096 tokens/s (2.00 steps/s), 25 s elapsed, 2 min 5 s left');
    expect(progressText(300, 300, 2, 150_000, { unit: 'tokens', perStep: 2048 })).toBe('4096 tokens/s (2.00 steps/s), 2 min 30 s elapsed');
    expect(progressText(0, 300, null, 1200)).toBe('1 s elapsed');
  });

  it('turns steps and elapsed time into steps/s and samples/s or tokens/s (the readout, bench and speed page share this)', () => {
    expect(stepsPerSecond(25, 2000)).toBe(12.5);
    expect(stepsPerSecond(0, 2000)).toBeNull();
    expect(stepsPerSecond(5, 0)).toBeNull();
    expect(unitsPerSecond(12.5, { unit: 'samples', perStep: 256 })).toBe(3200);
    expect(unitsPerSecond(2, { unit: 'tokens', perStep: 16 * 64 })).toBe(2048);
  });
});
