/**
 * The CLI's --export-weights: a Hugging Face checkpoint folder (--hf-dir) quantized by RTN comes
 * out as a folder the lab's Hugging Face loader reads (model.safetensors with codes, config.json,
 * tokenizer.json); a tiny GPT trained here comes out as one .safetensors file in the lab's layout
 * with its .config.json; on the polynomial task the flag is a usage error.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGpt } from '../src/engine/lm/checkpoint';
import { disposeGpt } from '../src/engine/lm/gpt';
import { loadHfModel } from '../src/engine/lm/hf';
import { parseSafetensors } from '../src/engine/lm/safetensors';
import { useBackend } from './helpers/backend';
import { writeGpt2Folder } from './helpers/hf-fixtures';
import { runLabCli } from './helpers/spawn';

const dir = mkdtempSync(path.join(tmpdir(), 'qaft-cli-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await useBackend();
});

const corpus = 'the cat sat on the mat. the dog ran to the park and back home.\n'.repeat(20);
const textFile = path.join(dir, 'text.txt');
writeFileSync(textFile, corpus);

/** The lab on `link` with the local text, `methods` on cpu, exporting to `target`. */
const exportRun = (link: string, methods: string, target: string, extra: string[] = []) =>
  runLabCli([link, ...extra, '--text', textFile, '--methods', methods, '--backend', 'cpu', '--export-weights', target]);

describe('--export-weights', () => {
  it('writes a Hugging Face checkpoint folder the lab loads back (RTN int4, codes included)', async () => {
    const model = path.join(dir, 'model');
    writeGpt2Folder(model, corpus, 8, 3);
    const out = path.join(dir, 'out');
    const r = await exportRun('v=1&task=lm&lm_ctx=8&sample_len=4&budget=4&bits_attn=4&bits_mlp=4', 'fp,rtn', out, ['--hf-dir', model]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { exported: { run: string; layout: string; files: string[]; quantized: string[] } };
    expect(s.exported).toMatchObject({ run: 'RTN 4b', layout: 'gpt2' });
    expect(s.exported.quantized).toHaveLength(4);
    expect(r.stderr).toMatch(/lab: wrote the weights of \[RTN 4b\] \(gpt2 layout, 4 quantized matrices with codes\)/);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) expect(existsSync(path.join(out, f)), f).toBe(true);
    const weights = new Uint8Array(readFileSync(path.join(out, 'model.safetensors')));
    expect(parseSafetensors(weights).tensors.has('transformer.h.0.attn.c_attn.qweight')).toBe(true);
    const back = await loadHfModel({
      config: readFileSync(path.join(out, 'config.json'), 'utf8'),
      weights,
      tokenizer: readFileSync(path.join(out, 'tokenizer.json'), 'utf8'),
    });
    expect(back.model.config.context).toBe(8);
    disposeGpt(back.model);
  });

  it('writes the tiny GPT as one .safetensors file in the lab’s layout, with its .config.json', async () => {
    const file = path.join(dir, 'tiny.safetensors');
    const r = await exportRun(
      'v=1&task=lm&text=own&lm_layers=1&lm_heads=2&lm_d=8&lm_ctx=8&lm_pre=0&lm_fp_steps=5&lm_steps=5&lm_batch=4&lm_fp_batch=4&sample_len=4&budget=4&bits_attn=1.58&bits_mlp=1.58',
      'fp,qaft',
      file,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'tiny.config.json'))).toBe(true);
    const { model, meta } = loadGpt(new Uint8Array(readFileSync(file)));
    // loadGpt reads every metadata value as JSON: the quantization summary names the run's method and quantized weights.
    expect(meta.quantization).toMatchObject({ method: 'qaft', tensors: { 'h0.wqkv': { scheme: 'ternary', granularity: 'tensor' } } });
    expect(model.config.dModel).toBe(8);
    disposeGpt(model);
  });

  it('is a usage error on the polynomial task', async () => {
    const r = await runLabCli(['v=1&width=8', '--export-weights', path.join(dir, 'x.safetensors'), '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--export-weights writes a language model’s weights: it needs task=lm/);
  });
});
