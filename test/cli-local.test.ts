/**
 * The CLI's local reads are confined: a link's site paths (text_url=/…, hf=/…) read the project's
 * public/ folder and nothing else ("..", encoded or not, and symbolic links out are refused); the
 * user's own files come in by flags (--hf-dir DIR, --text FILE); an unreachable URL ends with one
 * line naming the reason, no stack trace.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PUBLIC_DIR, sitePath } from '../src/cli/lm-env';
import { writeGpt2Folder } from './helpers/hf-fixtures';
import { runLabCli, type ChildResult } from './helpers/spawn';

const dir = mkdtempSync(path.join(tmpdir(), 'qaft-cli-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LM = 'v=1&task=lm&lm_ctx=8&sample_len=4&budget=4';

/** The run failed with `re` as its last line of stderr, nothing on stdout and no stack trace. */
function expectRefused(r: ChildResult, re: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(re);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('site paths read public/ only', () => {
  it('sitePath resolves inside the root and refuses "..", NUL and symbolic links out', () => {
    const root = path.join(dir, 'site');
    mkdirSync(path.join(root, 'lm'), { recursive: true });
    writeFileSync(path.join(root, 'lm', 'a b.txt'), 'hello');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'lm', 'out.txt'));
    symlinkSync(path.join(root, 'lm', 'a b.txt'), path.join(root, 'lm', 'in.txt'));
    expect(sitePath('/lm/a%20b.txt?v=2#x', root)).toBe(path.join(root, 'lm', 'a b.txt'));
    expect(sitePath('/lm/in.txt', root)).toBe(path.join(root, 'lm', 'a b.txt'));
    for (const bad of [
      '/../secret.txt',
      '/lm/../../secret.txt',
      '/lm/%2e%2e/%2E%2E/secret.txt',
      '/lm/..%2f..%2fsecret.txt',
      '/lm\\..\\..\\secret.txt',
      '/lm/out.txt',
      '/lm/a%00.txt',
    ]) {
      expect(() => sitePath(bad, root), bad).toThrow(/leads out of the site; site paths are read from the project's public\/ folder only/);
    }
    expect(() => sitePath('/lm/none.txt', root)).toThrow('no file public/lm/none.txt for the site path "/lm/none.txt"');
    expect(() => sitePath('/lm/%zz', root)).toThrow(/malformed %-escape/);
    expect(() => sitePath('lm/a.txt', root)).toThrow(/not a site path/);
    expect(sitePath('/lm/corpus.txt')).toBe(path.join(PUBLIC_DIR, 'lm', 'corpus.txt'));
  });

  it('text_url=/../../../../etc/passwd in a link is refused with a message, not read', async () => {
    const r = await runLabCli([`${LM}&text=url&text_url=/../../../../etc/passwd`, '--methods', 'fp', '--backend', 'cpu']);
    expectRefused(r, /^lab: The text at \/\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd could not be fetched: the site path .* leads out of the site/);
    expect(r.stderr).not.toMatch(/root:/);
  });

  it('hf=/… climbing out of the site is refused too; a missing site folder is a 404', async () => {
    const out = await runLabCli([`${LM}&lm_src=hf&hf=/../../../etc/`, '--methods', 'fp', '--backend', 'cpu']);
    expectRefused(out, /^lab: the site path "\/\.\.\/\.\.\/\.\.\/etc\/config\.json" leads out of the site/);
    const missing = await runLabCli([`${LM}&lm_src=hf&hf=/lm/`, '--methods', 'fp', '--backend', 'cpu']);
    expectRefused(missing, /^lab: Fetching config\.json from \/lm\/config\.json failed: HTTP 404 Not Found/);
  });

  it('an unreachable text_url or hf ends with one line naming the reason', async () => {
    const port = await closedPort();
    const text = await runLabCli([`${LM}&text=url&text_url=http://127.0.0.1:${port}/t.txt`, '--methods', 'fp', '--backend', 'cpu']);
    expectRefused(
      text,
      new RegExp(`^lab: The text at http://127\\.0\\.0\\.1:${port}/t\\.txt could not be fetched: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`),
    );
    const hf = await runLabCli([`${LM}&lm_src=hf&hf=http://127.0.0.1:${port}/m`, '--methods', 'fp', '--backend', 'cpu']);
    expectRefused(hf, new RegExp(`^lab: Could not reach http://127\\.0\\.0\\.1:${port}/m/config\\.json: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
  });
});

describe('--hf-dir DIR and --text FILE', () => {
  it('run the LM methods on a local checkpoint folder and a local text', async () => {
    const corpus = 'the cat sat on the mat. the dog ran to the park and back home.\n'.repeat(20);
    const model = path.join(dir, 'my-model');
    writeGpt2Folder(model, corpus, 8, 3);
    const textFile = path.join(dir, 'my text.txt');
    writeFileSync(textFile, corpus);
    const r = await runLabCli([LM, '--hf-dir', model, '--text', textFile, '--methods', 'fp,rtn', '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as {
      config: { lm: { source: string; corpus: string } };
      runs: { method: string; name: string; status: string; valNll: number }[];
    };
    expect(s.config.lm).toMatchObject({ source: 'files', corpus: 'own' });
    expect(s.runs.map((x) => `${x.method} ${x.status}`)).toEqual(['fp done', 'rtn done']);
    expect(s.runs[0].name).toBe('FP my-model');
    for (const x of s.runs) expect(Number.isFinite(x.valNll)).toBe(true);
    expect(r.stderr).toMatch(/--hf-dir: the model source is the folder's checkpoint \(lm_src=files, not tiny\)/);
  });

  it('lm_src=files or text=own without their flag, a folder without the files, or the flags on the polynomial task are usage errors', async () => {
    const files = await runLabCli([`${LM}&lm_src=files`, '--backend', 'cpu']);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/^lab: lm_src=files needs --hf-dir DIR: a folder with config\.json, model\.safetensors and tokenizer\.json$/m);
    const own = await runLabCli([`${LM}&text=own`, '--backend', 'cpu']);
    expect(own.stderr).toMatch(/^lab: text=own needs --text FILE: a UTF-8 text file$/m);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const none = await runLabCli([LM, '--hf-dir', empty, '--backend', 'cpu']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--hf-dir .*empty: the folder has no config\.json, model\.safetensors, tokenizer\.json/);
    const poly = await runLabCli(['v=1&width=8', '--text', path.join(dir, 'x.txt'), '--backend', 'cpu']);
    expect(poly.code).toBe(2);
    expect(poly.stderr).toMatch(/--hf-dir and --text are for the language-model task/);
  });
});
