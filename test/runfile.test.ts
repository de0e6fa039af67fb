/** Runs as files: the JSON export (written by the CLI's --export, read back as the page imports it), its validation, the CSV writer and the config diff. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig } from '../src/engine/core/config';
import { diffConfigs, flattenConfig } from '../src/engine/core/configdiff';
import type { RunRecord } from '../src/engine/core/runs';
import { csvField, csvText, curvesCsv, parseRunsFile, RUNS_FORMAT, runsCsv, runsFileText } from '../src/engine/runfile';
import { POLY_TABLE } from '../src/ui/runs';
import { runLabCli } from './helpers/spawn';

const TINY = 'v=1&width=16&depth=1&ntrain=64&ntest=16&fp_steps=20&steps=20&log=10&fp_batch=16&batch=16';
const dir = mkdtempSync(path.join(tmpdir(), 'qaft-runfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Parse CSV (RFC 4180) back into rows, to check the writer against a reader. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('CSV writer', () => {
  it('quotes commas, quotes, line breaks and edge spaces, and nothing else', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(1.5e-4)).toBe('0.00015');
    expect(csvField(NaN)).toBe('NaN');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('[{"layer":0,"bits":8}]')).toBe('"[{""layer"":0,""bits"":8}]"');
  });

  it('round-trips awkward fields through a CSV reader', () => {
    const rows = [
      ['name', 'note', 'x'],
      ['QAFT 2b, lr 1e-3', 'he said "no"\r\nthen left', '3'],
      ['', ' x ', '-1'],
    ];
    const text = csvText(rows);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(readCsv(text)).toEqual(rows);
  });
});

describe('config diff', () => {
  it('lists only the settings that differ, with both values, and counts the rest', () => {
    const a = cloneConfig(DEFAULT_CONFIG);
    const b = cloneConfig(DEFAULT_CONFIG);
    b.quant.bits = 2;
    b.qaft.lr = 3e-3;
    b.quant.overrides = [{ layer: 0, bits: 8, scheme: 'auto' }];
    const total = flattenConfig(a).size;
    const d = diffConfigs(a, b);
    expect(d.changed).toEqual([
      { path: 'quant.bits', a: '1.58', b: '2' },
      { path: 'quant.overrides', a: '[]', b: '[{"layer":0,"bits":8,"scheme":"auto"}]' },
      { path: 'qaft.lr', a: '0.0001', b: '0.003' },
    ]);
    expect(d.same).toBe(total - 3);
    expect(diffConfigs(a, structuredClone(a))).toEqual({ changed: [], same: total });
  });

  it('shows a setting only one side has as absent on the other', () => {
    const d = diffConfigs({ a: 1, n: { x: 'u' } }, { a: 1, n: { x: 'u', y: true } });
    expect(d).toEqual({ changed: [{ path: 'n.y', a: undefined, b: 'true' }], same: 2 });
  });
});

describe('runs export file', () => {
  it('the CLI writes --export runs.json, which reads back with the same runs, configs and curves; the CSVs hold them', async () => {
    const file = path.join(dir, 'runs.json');
    const r = await runLabCli([TINY, '--backend', 'wasm', '--methods', 'fp,rtn', '--export', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/2 run\(s\) written to/);
    const text = readFileSync(file, 'utf8');
    const json = JSON.parse(text) as { format: string; version: number; source: string; runs: RunRecord[] };
    expect(json.format).toBe(RUNS_FORMAT);
    expect(json.version).toBe(1);
    expect(json.source).toBe('QAFT Lab CLI');
    const read = parseRunsFile(text, 'runs.json');
    expect(read.problems).toEqual([]);
    expect(read.runs.map((x) => x.method)).toEqual(['fp', 'rtn']);
    const [fp, rtn] = read.runs;
    expect(fp.config.model.width).toBe(16);
    expect(fp.curve.length).toBeGreaterThan(1);
    expect(fp.curve).toEqual(json.runs[0].curve);
    expect(rtn.loss).toBe(json.runs[1].loss);
    expect(Number.isFinite(rtn.loss)).toBe(true);
    // Exported again, it is the same file (but for the export time).
    const again = JSON.parse(runsFileText(read.runs, 'QAFT Lab CLI')) as typeof json;
    expect(again.runs).toEqual(json.runs);

    const rows = readCsv(runsCsv(read.runs, POLY_TABLE));
    expect(rows[0].slice(0, 3)).toEqual(['run_id', 'Method', 'Bits']);
    expect(rows).toHaveLength(3);
    const col = (name: string) => rows[0].indexOf(name);
    expect(rows[1][col('Method')]).toBe('FP');
    expect(rows[2][col('Bits')]).toBe('1.58b');
    expect(Number(rows[2][col('loss')])).toBe(rtn.loss);
    expect(rows[2][col('config.model.width')]).toBe('16');
    expect(rows[2][col('config.quant.bits')]).toBe('1.58');
    const curves = readCsv(curvesCsv(read.runs));
    expect(curves[0]).toEqual(['run_id', 'run_name', 'method', 'step', 'train_loss', 'test_loss', 'metric']);
    expect(curves).toHaveLength(1 + fp.curve.length + rtn.curve.length);
    expect(curves[1]).toEqual([fp.id, fp.name, 'fp', String(fp.curve[0].step), String(fp.curve[0].train), String(fp.curve[0].test), 'test MSE']);

    // A diverged run's NaN points are null in JSON and NaN again after import.
    const nan = { ...read.runs[0], id: 'nan-run', status: 'diverged' as const, loss: NaN, curve: [{ step: 0, train: NaN, test: Infinity }] };
    const back = parseRunsFile(runsFileText([nan], 'page'), 'x.json');
    expect(back.runs[0].curve[0].train).toBeNaN();
    expect(back.runs[0].loss).toBeNull();
    expect(back.runs[0].status).toBe('diverged');

    // A bad run is left out, named, and the others are read.
    const mixed = JSON.parse(text) as { runs: unknown[] };
    (mixed.runs[0] as { curve: unknown[] }).curve[1] = { step: 'ten', train: 1, test: 1 };
    const partly = parseRunsFile(JSON.stringify(mixed), 'mixed.json');
    expect(partly.runs.map((x) => x.method)).toEqual(['rtn']);
    expect(partly.problems).toHaveLength(1);
    expect(partly.problems[0]).toMatch(/^run 1 \("FP[^"]*"\): "curve\.1\.step" expected number/);
    (mixed.runs[1] as { config: unknown }).config = { quant: { bits: 99 } };
    expect(parseRunsFile(JSON.stringify(mixed), 'm.json').problems[1]).toMatch(/^run 2 .*config is not usable \(quant\.bits/);
  }, 120_000);

  it('a file that is not a runs export gets a message that says what is wrong', () => {
    expect(() => parseRunsFile('{"format": "qaft-lab-runs", "version": 1, "runs": [', 'cut.json')).toThrow(/cut\.json is not valid JSON/);
    expect(() => parseRunsFile('[1, 2]', 'list.json')).toThrow(/list\.json holds a list, not a QAFT Lab runs export/);
    expect(() => parseRunsFile('{"quant": {"bits": 2}}', 'config.json')).toThrow(/its "format" is missing, not "qaft-lab-runs"/);
    expect(() => parseRunsFile('{"format": "other-tool"}', 'o.json')).toThrow(/its "format" is "other-tool"/);
    expect(() => parseRunsFile('{"format": "qaft-lab-runs", "version": 2, "runs": []}', 'n.json')).toThrow(/newer version of the lab \(format version 2/);
    expect(() => parseRunsFile('{"format": "qaft-lab-runs", "version": "1", "runs": []}', 'v.json')).toThrow(/"version" must be a whole number/);
    expect(() => parseRunsFile('{"format": "qaft-lab-runs", "version": 1, "runs": {}}', 'r.json')).toThrow(/"runs" must be a list of runs, not an object/);
    const noId = parseRunsFile('{"format": "qaft-lab-runs", "version": 1, "runs": [{"name": "x"}]}', 'r.json');
    expect(noId.runs).toEqual([]);
    expect(noId.problems[0]).toMatch(/^run 1 \("x"\): "id" expected string/);
    const badMethod = parseRunsFile('{"format": "qaft-lab-runs", "version": 1, "runs": [{"id": "a", "name": "x", "method": "magic"}]}', 'r.json');
    expect(badMethod.problems[0]).toMatch(/"method" is not a method of the lab/);
  });
});
