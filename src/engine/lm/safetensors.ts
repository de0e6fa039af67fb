/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * unsigned header length N, N bytes of UTF-8 JSON ({name: {dtype, shape, data_offsets:
 * [begin, end]}, "__metadata__"?: {string: string}}, padded with spaces), then the byte buffer.
 * Offsets are relative to the buffer's start; the tensors must cover the buffer exactly, without
 * gaps, overlaps or trailing bytes (as the reference implementation requires).
 *
 * Decoding: F64/F32/F16/BF16 → Float32Array; I64/I32/I16/I8/U16/U8/BOOL → Int32Array (I64
 * values outside the int32 range are an error). With `requireFinite` (the model loaders), a float
 * tensor holding NaN or ±Infinity is an error naming the tensor. A tensor's data may be a view into `bytes`
 * (F32 and I32 at a 4-byte-aligned position on a little-endian machine): copy it before mutating.
 * Pure TS, no tfjs.
 */

export type SafetensorsData = Float32Array | Int32Array | Float64Array;

export interface SafetensorsTensor {
  /** The dtype as written in the file (e.g. "BF16"). */
  dtype: string;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export interface ParseSafetensorsOptions {
  /** Refuse files larger than this many bytes. */
  maxBytes?: number;
  /** The file's name, used in error messages. */
  name?: string;
  /** Decode F64 tensors to a Float64Array (exact) instead of a Float32Array. */
  keepF64?: boolean;
  /**
   * Refuse a float tensor holding NaN or ±Infinity (after decoding: an F64 value beyond the
   * float32 range counts too), naming the tensor: weights must be finite. The model loaders set it.
   */
  requireFinite?: boolean;
}

/** A dtype the writer writes: floats from a Float32Array (F32) or Float64Array (F64), integers from an Int32Array. */
export type SafetensorsWriteDtype = 'F32' | 'F64' | 'I32' | 'I16' | 'I8' | 'U16' | 'U8';

/** A tensor to write: the data's length must be the product of the shape; integers must fit the dtype. */
export interface SafetensorsInput {
  name: string;
  dtype: SafetensorsWriteDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** The range of each integer dtype the writer writes. */
const INT_RANGE: Record<string, [number, number]> = { I32: [-(2 ** 31), 2 ** 31 - 1], I16: [-32768, 32767], I8: [-128, 127], U16: [0, 65535], U8: [0, 255] };

/** The smallest integer dtype that holds every value of `data` (U8, I8, U16, I16, else I32). */
export function smallestIntDtype(data: ArrayLike<number>): 'U8' | 'I8' | 'U16' | 'I16' | 'I32' {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < data.length; i++) [lo, hi] = [Math.min(lo, data[i]), Math.max(hi, data[i])];
  for (const d of ['U8', 'I8', 'U16', 'I16'] as const) if (lo >= INT_RANGE[d][0] && hi <= INT_RANGE[d][1]) return d;
  return 'I32';
}

/** Bytes per element of the dtypes the parser decodes. */
const ITEM_SIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U16: 2, U8: 1, BOOL: 1 };
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

/** Largest JSON header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const fmtBytes = (n: number): string => {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]} (${n.toLocaleString('en-US')} bytes)`;
};

let f16Table: Float32Array | null = null;

/** IEEE half-precision bits → float, for all 65536 patterns. */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  f16Table = t;
  return t;
}

/** Decode `n` elements of `dtype` starting at absolute byte `start` of `bytes`. */
function decode(bytes: Uint8Array, start: number, n: number, dtype: string, fail: (msg: string) => never, keepF64 = false): SafetensorsData {
  const abs = bytes.byteOffset + start;
  const dv = new DataView(bytes.buffer, abs, n * ITEM_SIZE[dtype]);
  switch (dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN && abs % 4 === 0) return new Float32Array(bytes.buffer, abs, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case 'I32': {
      if (LITTLE_ENDIAN && abs % 4 === 0) return new Int32Array(bytes.buffer, abs, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return out;
    }
    case 'F64': {
      const out = keepF64 ? new Float64Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    }
    case 'F16': {
      const t = halfTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = t[dv.getUint16(2 * i, true)];
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = dv.getUint32(8 * i, true);
        const hi = dv.getInt32(8 * i + 4, true);
        if (!((hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000))) {
          fail(`element ${i} (${(BigInt(hi) * 4294967296n + BigInt(lo)).toString()}) is outside the int32 range`);
        }
        out[i] = lo | 0;
      }
      return out;
    }
    case 'I16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      return out;
    }
    case 'U16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return out;
    }
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const b = dv.getUint8(i);
        if (b > 1) fail(`element ${i} is ${b}, not a boolean (0 or 1)`);
        out[i] = b;
      }
      return out;
    }
    default: {
      // U8
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      return out;
    }
  }
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Parse and validate a safetensors file; every problem is an Error naming the file. */
export function parseSafetensors(bytes: Uint8Array, opts: ParseSafetensorsOptions = {}): SafetensorsFile {
  const file = opts.name ?? 'the safetensors file';
  const fail = (msg: string): never => {
    throw new Error(`${file}: ${msg}`);
  };
  if (opts.maxBytes !== undefined && bytes.length > opts.maxBytes) {
    fail(`the file is ${fmtBytes(bytes.length)}, over the limit of ${fmtBytes(opts.maxBytes)}`);
  }
  if (bytes.length < 8) fail(`the file is only ${bytes.length} bytes, too short for a safetensors file (an 8-byte header length, then a JSON header)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenLo = dv.getUint32(0, true);
  const lenHi = dv.getUint32(4, true);
  const headerLen = lenHi * 4294967296 + lenLo;
  if (headerLen > bytes.length - 8) {
    fail(
      `the header length (${headerLen.toLocaleString('en-US')} bytes) goes beyond the end of the file (${bytes.length.toLocaleString('en-US')} bytes): the file is truncated or not a safetensors file`,
    );
  }
  if (headerLen > MAX_HEADER_BYTES) fail(`the header is ${fmtBytes(headerLen)}, over the limit of ${fmtBytes(MAX_HEADER_BYTES)}`);
  if (headerLen < 2) fail(`the header length is ${headerLen}, too short for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('the header is not valid UTF-8, so this is not a safetensors file');
  }
  if (text[0] !== '{') fail(`the header does not start with "{" (it starts with ${JSON.stringify(text.slice(0, 16))}), so this is not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const h = header as Record<string, unknown>;

  const metadata: Record<string, string> = {};
  const rawMeta = h.__metadata__;
  if (rawMeta !== undefined) {
    if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) fail('"__metadata__" is not an object of strings');
    for (const [k, val] of Object.entries(rawMeta as Record<string, unknown>)) {
      if (typeof val !== 'string') fail(`"__metadata__"."${k}" is not a string (got ${JSON.stringify(val)?.slice(0, 40)})`);
      metadata[k] = val as string;
    }
  }

  const bufferStart = 8 + headerLen;
  const bufferLen = bytes.length - bufferStart;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(h)) {
    if (name === '__metadata__') continue;
    const where = `tensor "${name}"`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where} is not described by an object`);
    const info = raw as Record<string, unknown>;
    const dtype = info.dtype;
    if (typeof dtype !== 'string') fail(`${where} has no dtype`);
    if (!Object.hasOwn(ITEM_SIZE, dtype as string)) {
      fail(`${where} has the dtype ${JSON.stringify(dtype)}, which the lab does not read (it reads ${Object.keys(ITEM_SIZE).join(', ')})`);
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where} has the shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where} has data_offsets ${JSON.stringify(offs)}, not two non-negative integers`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) fail(`${where} has data_offsets [${begin}, ${end}] that end before they begin`);
    if (end > bufferLen) {
      fail(
        `${where}'s data_offsets [${begin}, ${end}] go beyond the data (${bufferLen.toLocaleString('en-US')} bytes after the header): the file is truncated`,
      );
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = count * ITEM_SIZE[dtype as string];
    if (end - begin !== expected) {
      fail(
        `${where} is ${dtype} [${(shape as number[]).join(', ')}] = ${expected.toLocaleString('en-US')} bytes, but its data_offsets [${begin}, ${end}] span ${(end - begin).toLocaleString('en-US')} bytes`,
      );
    }
    entries.push({ name, dtype: dtype as string, shape: (shape as number[]).slice(), begin, end });
  }

  // The tensors must tile the buffer: sorted by offset, each starts where the previous ended.
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensor "${e.name}" [${e.begin}, ${e.end}] overlaps tensor "${prev!.name}" [${prev!.begin}, ${prev!.end}]`);
    if (e.begin > pos) fail(`bytes ${pos}–${e.begin} of the data belong to no tensor (a gap before tensor "${e.name}")`);
    pos = e.end;
    prev = e;
  }
  if (pos !== bufferLen) {
    fail(
      `the tensors cover ${pos.toLocaleString('en-US')} of the ${bufferLen.toLocaleString('en-US')} data bytes; ${(bufferLen - pos).toLocaleString('en-US')} trailing bytes belong to no tensor`,
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const n = (e.end - e.begin) / ITEM_SIZE[e.dtype];
    const data = decode(bytes, bufferStart + e.begin, n, e.dtype, (msg) => fail(`tensor "${e.name}" (${e.dtype}): ${msg}`), opts.keepF64);
    if (opts.requireFinite && !(data instanceof Int32Array)) {
      const bad = nonFinite(data);
      if (bad) fail(`tensor "${e.name}" holds non-finite values (${bad}); the checkpoint is damaged.`);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** null when every value is finite, else e.g. "NaN at element 17, 2 more non-finite" (NaN / Infinity / -Infinity). */
export function nonFinite(data: Float32Array | Float64Array): string | null {
  let i = 0;
  // x − x is 0 for every finite x and NaN for NaN and ±Infinity.
  while (i < data.length && data[i] - data[i] === 0) i++;
  if (i === data.length) return null;
  const first = i;
  let more = 0;
  for (i = first + 1; i < data.length; i++) if (data[i] - data[i] !== 0) more++;
  const v = data[first];
  const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return `${what} at element ${first}${more ? `, and ${more.toLocaleString('en-US')} more of the ${data.length.toLocaleString('en-US')}` : ''}`;
}

/** Whether a dtype decodes to a Float32Array (otherwise an Int32Array). */
export function isFloatDtype(dtype: string): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/** Write tensors (in the given order) and string metadata as a safetensors file. */
export function serializeSafetensors(tensors: SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, val] of Object.entries(metadata)) {
      if (typeof val !== 'string') throw new Error(`serializeSafetensors: metadata "${k}" is not a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) throw new Error(`serializeSafetensors: the tensor name "${t.name}" is reserved or repeated`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(`serializeSafetensors: tensor "${t.name}" has an invalid shape [${t.shape.join(', ')}]`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new Error(`serializeSafetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}] (${count} elements) but ${t.data.length} values`);
    const ok = t.dtype === 'F32' ? t.data instanceof Float32Array : t.dtype === 'F64' ? t.data instanceof Float64Array : t.data instanceof Int32Array;
    if (!ok) throw new Error(`serializeSafetensors: tensor "${t.name}" is declared ${t.dtype} but its data is a ${t.data.constructor.name}`);
    const range = INT_RANGE[t.dtype];
    if (range && t.dtype !== 'I32') {
      const [lo, hi] = range;
      const bad = (t.data as Int32Array).findIndex((x) => x < lo || x > hi);
      if (bad >= 0) throw new Error(`serializeSafetensors: tensor "${t.name}" (${t.dtype}) element ${bad} is ${t.data[bad]}, outside ${lo}…${hi}`);
    }
    const bytes = count * ITEM_SIZE[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, Math.floor(json.length / 4294967296), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors) {
    const size = ITEM_SIZE[t.dtype];
    if (LITTLE_ENDIAN && size === t.data.BYTES_PER_ELEMENT) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      const w = new DataView(out.buffer, pos, t.data.length * size);
      const put: Record<SafetensorsWriteDtype, (i: number, x: number) => void> = {
        F32: (i, x) => w.setFloat32(4 * i, x, true),
        F64: (i, x) => w.setFloat64(8 * i, x, true),
        I32: (i, x) => w.setInt32(4 * i, x, true),
        I16: (i, x) => w.setInt16(2 * i, x, true),
        U16: (i, x) => w.setUint16(2 * i, x, true),
        I8: (i, x) => w.setInt8(i, x),
        U8: (i, x) => w.setUint8(i, x),
      };
      const f = put[t.dtype];
      for (let i = 0; i < t.data.length; i++) f(i, t.data[i]);
    }
    pos += t.data.length * size;
  }
  return out;
}
