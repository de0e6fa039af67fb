/** What a config would fetch from another origin, and what the page asks about (src/ui/origins.ts). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, cloneConfig, type ExperimentConfig } from '../src/engine/core/config';
import { fetchesToAsk, foreignFetches, foreignHost, foreignHosts, linkForeignUrls, listHosts } from '../src/ui/origins';

const PAGE = 'http://127.0.0.1:4173/';
const HF = 'https://huggingface.co/EleutherAI/pythia-14m/resolve/main/';
const TEXT = 'https://evil.example/x.txt';

function lm(edit: Partial<ExperimentConfig['lm']>): ExperimentConfig {
  const c = cloneConfig(DEFAULT_CONFIG);
  c.task = 'lm';
  c.lm = { ...c.lm, ...edit };
  return c;
}

describe('foreignHost', () => {
  it('names the host (with a port) of an http(s) URL of another origin', () => {
    expect(foreignHost(HF, PAGE)).toBe('huggingface.co');
    expect(foreignHost('http://example.org:8080/a.txt', PAGE)).toBe('example.org:8080');
    // Same host, another port or scheme: another origin.
    expect(foreignHost('http://127.0.0.1:9999/x', PAGE)).toBe('127.0.0.1:9999');
    expect(foreignHost('https://127.0.0.1:4173/x', PAGE)).toBe('127.0.0.1:4173');
  });

  it("passes the page's own files: site paths, relative paths, the same origin written out", () => {
    for (const u of ['/lm/corpus.txt', 'lm/corpus.txt', './x.txt', '../x', 'http://127.0.0.1:4173/lm/model.safetensors', '?a=1', '#x']) {
      expect(foreignHost(u, PAGE), u).toBeNull();
    }
    expect(foreignHost('/lm/corpus.txt', 'https://lab.example/sub/page.html#v=1')).toBeNull();
  });

  it('sees through URLs that only look like site paths or like another host', () => {
    expect(foreignHost('//evil.example/x.txt', PAGE)).toBe('evil.example');
    expect(foreignHost('/\\evil.example/x.txt', PAGE)).toBe('evil.example');
    expect(foreignHost('  https://evil.example/x.txt  ', PAGE)).toBe('evil.example');
    expect(foreignHost('https://huggingface.co@evil.example/', PAGE)).toBe('evil.example');
    expect(foreignHost('HTTPS://EVIL.EXAMPLE/X', PAGE)).toBe('evil.example');
    // Internationalized names are shown as the browser resolves them (punycode), not as look-alikes.
    expect(foreignHost('https://еxample.com/x', PAGE)).toBe('xn--xample-2of.com');
  });

  it('ignores what fetch never sends over the network or cannot parse', () => {
    for (const u of ['', '   ', 'data:text/plain,hello', 'javascript:alert(1)', 'file:///etc/passwd', 'ftp://example.org/x', 'http://[bad']) {
      expect(foreignHost(u, PAGE), u).toBeNull();
    }
  });
});

describe('foreignFetches', () => {
  it('lists the Hugging Face folder with lm_src=hf and the text URL with text=url, only in the LM task', () => {
    const c = lm({ source: 'hf', hfUrl: HF, corpus: 'url', corpusUrl: TEXT });
    expect(foreignFetches(c, PAGE)).toEqual([
      { key: 'hf', url: HF, host: 'huggingface.co' },
      { key: 'text_url', url: TEXT, host: 'evil.example' },
    ]);
    expect(foreignHosts(c, PAGE)).toEqual(['huggingface.co', 'evil.example']);
    expect(foreignFetches({ ...c, task: 'poly' }, PAGE)).toEqual([]);
  });

  it("skips URLs the settings do not use and the page's own paths", () => {
    expect(foreignFetches(lm({ source: 'tiny', hfUrl: HF, corpus: 'builtin', corpusUrl: TEXT }), PAGE)).toEqual([]);
    expect(foreignFetches(lm({ source: 'hf', hfUrl: '/models/gpt/', corpus: 'url', corpusUrl: '/lm/corpus.txt' }), PAGE)).toEqual([]);
    expect(foreignFetches(cloneConfig(DEFAULT_CONFIG), PAGE)).toEqual([]);
  });

  it('names one host once', () => {
    const c = lm({ source: 'hf', hfUrl: 'https://example.org/m/', corpus: 'url', corpusUrl: 'https://example.org/t.txt' });
    expect(foreignHosts(c, PAGE)).toEqual(['example.org']);
  });
});

describe('what the page asks about', () => {
  const c = lm({ source: 'hf', hfUrl: HF, corpus: 'url', corpusUrl: TEXT });

  it("remembers a link's URLs of other origins, used or not", () => {
    expect(linkForeignUrls(c, PAGE)).toEqual([HF, TEXT]);
    expect(linkForeignUrls(lm({ source: 'tiny', hfUrl: HF }), PAGE)).toEqual([HF]);
    expect(linkForeignUrls(lm({ corpusUrl: '/lm/corpus.txt' }), PAGE)).toEqual([]);
  });

  it('asks about URLs from a link whose host was not allowed; typed URLs and allowed hosts pass', () => {
    expect(fetchesToAsk(c, PAGE, [HF, TEXT], []).map((f) => f.host)).toEqual(['huggingface.co', 'evil.example']);
    expect(fetchesToAsk(c, PAGE, [HF, TEXT], ['huggingface.co']).map((f) => f.host)).toEqual(['evil.example']);
    expect(fetchesToAsk(c, PAGE, [HF, TEXT], ['huggingface.co', 'evil.example'])).toEqual([]);
    // Nothing came from a link: the user typed both.
    expect(fetchesToAsk(c, PAGE, [], [])).toEqual([]);
    // The link's URL was replaced by one the user typed.
    expect(fetchesToAsk(lm({ corpus: 'url', corpusUrl: 'https://mine.example/t.txt' }), PAGE, [TEXT], [])).toEqual([]);
  });

  it('lists hosts in a sentence', () => {
    expect(listHosts([])).toBe('');
    expect(listHosts(['a'])).toBe('a');
    expect(listHosts(['a', 'b'])).toBe('a and b');
    expect(listHosts(['a', 'b', 'c'])).toBe('a, b and c');
  });
});
