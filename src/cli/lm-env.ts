/** The LM task's resource reader in Node: site paths ("/lm/…") come from public/, URLs are fetched. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LmEnv } from '../engine/lm/assets';

const PUBLIC = resolve(dirname(fileURLToPath(import.meta.url)), '../../public');

function localPath(url: string): string | null {
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(url)) return null;
  if (url.startsWith('/')) return join(PUBLIC, url);
  return resolve(url); // a path on this machine (CLI only)
}

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText} for ${url}`);
  return res;
}

export const nodeLmEnv: LmEnv = {
  async fetchText(url) {
    const p = localPath(url);
    if (p === null) return (await fetchOk(url)).text();
    if (!existsSync(p)) throw new Error(`no file ${p}`);
    return readFileSync(p, 'utf8');
  },
  async fetchBytes(url, maxBytes) {
    const p = localPath(url);
    if (p === null) {
      const buf = new Uint8Array(await (await fetchOk(url)).arrayBuffer());
      if (maxBytes !== undefined && buf.length > maxBytes) throw new Error(`${url} is ${buf.length} bytes, over the limit of ${maxBytes}`);
      return buf;
    }
    if (!existsSync(p)) throw new Error(`no file ${p}`);
    const size = statSync(p).size;
    if (maxBytes !== undefined && size > maxBytes) throw new Error(`${p} is ${size} bytes, over the limit of ${maxBytes}`);
    return new Uint8Array(readFileSync(p));
  },
};
