/**
 * A quantized language model as one safetensors file (and its config.json): the dequantized
 * weights under the tensor names and layout of the model's family, so that the file is a complete
 * checkpoint a loader reads as it is, plus, for every quantized matrix, its integer codes and
 * per-group parameters (quantizers/codes.ts), which rebuild those weights bit for bit.
 *
 * Layouts:
 * - 'gpt2': GPT2LMHeadModel's names ("transformer.h.0.attn.c_attn.weight", …), Conv1D weights
 *   [in, out] (the engine's own layout), wte [vocab, d], "lm_head.weight" only when the head
 *   differs from the embedding (tie_word_embeddings false);
 * - 'gpt-neox': GPTNeoXForCausalLM's names ("gpt_neox.layers.0.attention.query_key_value.weight",
 *   …, "embed_out.weight"), nn.Linear weights [out, in], query_key_value's rows per head
 *   [q_h | k_h | v_h] (the inverse of hf.ts's reordering);
 * - 'lab': the lab's own checkpoint (checkpoint.ts: "wte", "h0.wqkv", …, format qaft-lab-gpt/1)
 *   for the tiny GPT trained here. It does not map onto GPT-2 exactly: its output head has a
 *   trained bias, its norms may be RMSNorm and its GELU is the exact one.
 *
 * For a quantized matrix stored as "<module>.weight" (lab layout: "<name>") the extra tensors are
 * "<module>.qweight" (codes, same shape and layout as the weight, the smallest integer dtype that
 * holds them), "<module>.scales" (F32, or F64 where a float32 scale cannot rebuild the group),
 * "<module>.zeros" (asym), "<module>.scale_codes" (U8: MX's E8M0, NVFP4's E4M3 block scales),
 * "<module>.tensor_scale" (F32 [1], NVFP4) and "<module>.codebook" (F32, k-means); per-group
 * tensors have the weight's shape with its input axis cut to one entry per group ([1] per
 * tensor). `__metadata__` "quantization" (JSON) names, per weight, the scheme, bits,
 * granularity, group size, layout and these tensors, and the method of the run.
 *
 * An output-head bias the lab trained (QAFT trains every parameter) is written as "lm_head.bias" /
 * "embed_out.bias" when it is not zero; the lab's loader reads it, transformers has no head bias
 * and ignores it. Activation quantization is not in the weights: the metadata says so.
 */
import * as tf from '@tensorflow/tfjs';
import { asZooSpec, type LayerQuant, type WeightQuant } from '../core/layerquant';
import { decodeMatrix, encodeMatrix, paramShape, toOutIn, type EncodedMatrix } from '../core/quantizers/codes';
import { fakeQuantLayer } from '../core/fakequant';
import { GPT_CHECKPOINT_FORMAT, gptNamedVariables } from './checkpoint';
import { gptHeadWeight, gptLinears, type Gpt, type GptQuant } from './gpt';
import { effectiveWeight } from './quantize';
import { serializeSafetensors, smallestIntDtype, type SafetensorsInput } from './safetensors';
import type { LmComponent } from './spec';

export type ExportLayout = 'gpt2' | 'gpt-neox' | 'lab';

export interface QuantExportInput {
  model: Gpt;
  /** The fake-quant of the model's forward pass as the lab evaluates it (undefined: none). */
  quant: GptQuant | undefined;
  /** Each component's weight quantizer under the run's settings (null: full precision). */
  specs: Record<LmComponent, WeightQuant | null>;
  layout: ExportLayout;
  /** What the metadata says about the run (method, name, …). */
  about: Record<string, string | number | null>;
  /** The checkpoint's own config.json, whose other keys (token ids, …) are kept ('gpt2', 'gpt-neox'). */
  baseConfig?: Record<string, unknown>;
  /** Lab layout: the char tokenizer's characters. */
  chars?: string[];
}

export interface QuantizedTensorInfo {
  scheme: string;
  bits: number;
  granularity: string;
  group_size: number | null;
  /** 'in-out': the input axis first (Conv1D, the lab); 'out-in': nn.Linear. */
  layout: string;
  codes: string;
  scales?: string;
  zeros?: string;
  scale_codes?: string;
  tensor_scale?: string;
  codebook?: string;
}

export interface QuantExport {
  /** model.safetensors */
  weights: Uint8Array;
  /** config.json (the lab layout: the GptConfig). */
  config: string;
  /** The quantized weights and their code tensors. */
  quantized: Record<string, QuantizedTensorInfo>;
  notes: string[];
}

async function host(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  // −0 is written as +0 (an integer code has no sign); the two are equal as numbers.
  return Float32Array.from(d, (x) => x + 0);
}

/** A [in, out] matrix's values as the model uses them, and what its quantizer was fitted on. */
interface Used {
  values: Float32Array;
  source: Float32Array;
  dims: [number, number];
}

async function used(latent: tf.Tensor, fq: LayerQuant | undefined, make?: () => tf.Tensor): Promise<Used> {
  const dims = latent.shape as [number, number];
  const source = await host(latent);
  if (!fq?.weight) return { values: source, source, dims };
  const t = make ? make() : tf.tidy(() => fakeQuantLayer(latent, fq));
  const values = await host(t);
  t.dispose();
  return { values, source, dims };
}

/** [rows, cols] row-major → [cols, rows], rows permuted: stored row r is column perm[r]. */
function transpose(a: Float32Array, rows: number, cols: number, perm?: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < cols; r++) {
    const c = perm ? perm[r] : r;
    for (let i = 0; i < rows; i++) out[r * rows + i] = a[i * cols + c];
  }
  return out;
}

/** NeoX query_key_value: stored row r (head h, part j, dim t: r = h·3hd + j·hd + t) is the engine's column j·d + h·hd + t. */
export function neoxQkvPerm(heads: number, hd: number): Int32Array {
  const d = heads * hd;
  const perm = new Int32Array(3 * d);
  for (let h = 0; h < heads; h++) for (let j = 0; j < 3; j++) for (let t = 0; t < hd; t++) perm[h * 3 * hd + j * hd + t] = j * d + h * hd + t;
  return perm;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const isZero = (a: Float32Array) => a.every((x) => x === 0);

/** Where a matrix goes: its stored name and layout. */
interface Placement {
  name: string;
  /** Stored [out, in] with these output rows (undefined: [in, out] as the engine holds it). */
  outIn?: { perm?: Int32Array };
}

/** Export a quantized (or full-precision) model; see the header for the layout. */
export async function exportQuantizedLm(input: QuantExportInput): Promise<QuantExport> {
  const { model: m, quant, specs, layout } = input;
  const c = m.config;
  checkLayout(layout, m);
  const d = c.dModel;
  const tensors: SafetensorsInput[] = [];
  const quantized: Record<string, QuantizedTensorInfo> = {};
  const notes: string[] = [];

  const f32 = (name: string, shape: number[], data: Float32Array) => tensors.push({ name, dtype: 'F32', shape, data });
  const matrix = async (place: Placement, u: Used, spec: WeightQuant | null) => {
    const [inDim, outDim] = u.dims;
    const out = place.outIn;
    const values = out ? transpose(u.values, inDim, outDim, out.perm) : u.values;
    f32(place.name, out ? [outDim, inDim] : [inDim, outDim], values);
    if (!spec) return;
    let e: EncodedMatrix;
    try {
      e = encodeMatrix(u.values, u.dims, asZooSpec(spec), u.source);
    } catch (err) {
      throw new Error(`${place.name}: ${(err as Error).message}`);
    }
    if (out) e = toOutIn(e, out.perm);
    const rebuilt = decodeMatrix(e);
    if (!same(rebuilt, values)) throw new Error(`${place.name}: the codes do not rebuild the weights (internal error)`);
    const module = layout === 'lab' ? place.name : place.name.replace(/\.weight$/, '');
    const info: QuantizedTensorInfo = {
      scheme: e.spec.scheme,
      bits: e.spec.bits,
      granularity: e.spec.granularity,
      group_size: e.spec.granularity === 'group' ? (e.spec.groupSize as number) : null,
      layout: e.layout,
      codes: `${module}.qweight`,
    };
    tensors.push({ name: info.codes, dtype: smallestIntDtype(e.codes), shape: out ? [outDim, inDim] : [inDim, outDim], data: e.codes });
    const ps = paramShape(e);
    if (e.scales) {
      info.scales = `${module}.scales`;
      tensors.push(
        e.scalesF32
          ? { name: info.scales, dtype: 'F32', shape: ps, data: Float32Array.from(e.scales) }
          : { name: info.scales, dtype: 'F64', shape: ps, data: e.scales },
      );
    }
    if (e.zeros) tensors.push({ name: (info.zeros = `${module}.zeros`), dtype: smallestIntDtype(e.zeros), shape: ps, data: e.zeros });
    if (e.scaleCodes) tensors.push({ name: (info.scale_codes = `${module}.scale_codes`), dtype: 'U8', shape: ps, data: e.scaleCodes });
    if (e.tensorScale !== undefined)
      tensors.push({ name: (info.tensor_scale = `${module}.tensor_scale`), dtype: 'F32', shape: [1], data: Float32Array.of(e.tensorScale) });
    if (e.codebook)
      tensors.push({ name: (info.codebook = `${module}.codebook`), dtype: 'F32', shape: [...ps, 2 ** e.spec.bits], data: Float32Array.from(e.codebook) });
    quantized[place.name] = info;
  };
  const vector = async (name: string, v: tf.Tensor) => f32(name, v.shape, await host(v));

  // The token table as the input embedding uses it, and the output head's weight as the head uses it.
  const embed = await used(m.wte, quant?.embed);
  const headVar = gptHeadWeight(m);
  const head = await used(headVar, quant?.head);
  const tied = !m.head && same(embed.values, head.values) && JSON.stringify(specs.embed) === JSON.stringify(specs.head);
  const headBias = await host(m.headBias);
  const linears = gptLinears(m);
  const fitted = new Map<tf.Variable, Used>();
  for (const lin of linears) {
    const l = quant?.[lin.component];
    fitted.set(lin.w, await used(lin.w, l, () => effectiveWeight(lin, quant)));
  }

  if (layout === 'lab') {
    for (const [name, v] of gptNamedVariables(m)) {
      if (v === m.wte) await matrix({ name }, embed, specs.embed);
      else if (v === m.head) await matrix({ name }, head, specs.head);
      else if (fitted.has(v)) {
        const lin = linears.find((l) => l.w === v);
        await matrix({ name }, fitted.get(v) as Used, specs[lin?.component ?? 'attn']);
      } else await vector(name, v);
    }
    if (!tied && !m.head) await matrix({ name: 'head' }, head, specs.head);
  } else {
    const neox = layout === 'gpt-neox';
    const p = neox ? 'gpt_neox.' : 'transformer.';
    const emb = neox ? 'embed_in.weight' : 'wte.weight';
    await matrix({ name: p + emb, outIn: {} }, embed, specs.embed);
    if (!neox) await vector(`${p}wpe.weight`, m.wpe);
    const perm = neoxQkvPerm(c.heads, d / c.heads);
    const names = neox
      ? {
          ln1: 'input_layernorm',
          ln2: 'post_attention_layernorm',
          qkv: 'attention.query_key_value',
          out: 'attention.dense',
          fc: 'mlp.dense_h_to_4h',
          proj: 'mlp.dense_4h_to_h',
        }
      : { ln1: 'ln_1', ln2: 'ln_2', qkv: 'attn.c_attn', out: 'attn.c_proj', fc: 'mlp.c_fc', proj: 'mlp.c_proj' };
    for (const [i, blk] of m.blocks.entries()) {
      const h = neox ? `${p}layers.${i}.` : `${p}h.${i}.`;
      const ln = async (hf: string, params: tf.Variable[]) => {
        await vector(`${h}${hf}.weight`, params[0]);
        await vector(`${h}${hf}.bias`, params[1]);
      };
      const lin = async (hf: string, w: tf.Variable, b: tf.Variable, component: 'attn' | 'mlp', qkv = false) => {
        await matrix({ name: `${h}${hf}.weight`, outIn: neox ? { perm: qkv ? perm : undefined } : undefined }, fitted.get(w) as Used, specs[component]);
        const bias = await host(b);
        f32(`${h}${hf}.bias`, [bias.length], qkv && neox ? Float32Array.from(perm, (k) => bias[k]) : bias);
      };
      await ln(names.ln1, blk.norm1);
      await lin(names.qkv, blk.wqkv, blk.bqkv, 'attn', true);
      await lin(names.out, blk.wo, blk.bo, 'attn');
      await ln(names.ln2, blk.norm2);
      await lin(names.fc, blk.wfc, blk.bfc, 'mlp');
      await lin(names.proj, blk.wproj, blk.bproj, 'mlp');
    }
    await vector(`${p}${neox ? 'final_layer_norm' : 'ln_f'}.weight`, m.normF[0]);
    await vector(`${p}${neox ? 'final_layer_norm' : 'ln_f'}.bias`, m.normF[1]);
    const headName = neox ? 'embed_out' : 'lm_head';
    if (!tied) await matrix({ name: `${headName}.weight`, outIn: {} }, head, specs.head);
    if (!isZero(headBias)) {
      f32(`${headName}.bias`, [headBias.length], headBias);
      notes.push(
        `The output head's bias (trained by the lab) is "${headName}.bias": the lab's loader reads it; transformers has no head bias and drops it, so its logits differ by that bias.`,
      );
    }
  }

  const actBits = Math.max(0, ...(['attn', 'mlp'] as const).map((k) => quant?.[k]?.actBits ?? 0));
  if (actBits > 0)
    notes.push(`Activations are quantized to ${actBits} bits in the lab; that is not in the weights, so a plain forward pass of this file differs.`);
  const config = configFor(layout, m, tied, input.baseConfig);
  const summary = {
    producer: 'QAFT Lab',
    ...input.about,
    tied_embeddings: tied,
    activation_bits: actBits,
    rebuild:
      'value = fp32(product in float64) of: (code − zero)·scale (uniform, ternary, binary); NF4 level[code]·scale; codebook[code] (k-means); element(code)·scale (FP8); element(code)·2^max(scale_code − 127, −126) (MX, E8M0); element(code)·fp32(tensor_scale·E4M3(scale_code)) (NVFP4)',
    tensors: quantized,
    notes,
  };
  const metadata: Record<string, string> =
    layout === 'lab'
      ? { format: GPT_CHECKPOINT_FORMAT, config, quantization: JSON.stringify(summary), ...(input.chars ? { chars: JSON.stringify(input.chars) } : {}) }
      : { format: 'pt', quantization: JSON.stringify(summary) };
  return { weights: serializeSafetensors(tensors, metadata), config, quantized, notes };
}

function checkLayout(layout: ExportLayout, m: Gpt): void {
  const c = m.config;
  if (layout === 'lab') return;
  const why: string[] = [];
  if (c.norm !== 'layer') why.push('RMSNorm');
  if (c.bitnet) why.push('BitNet norms');
  if (layout === 'gpt2' && (c.positions === 'rotary' || c.parallelResidual)) why.push('rotary positions or a parallel residual');
  if (layout === 'gpt-neox' && c.positions !== 'rotary') why.push('learned positions');
  if (why.length) throw new Error(`This model cannot be written in the ${layout} layout (it has ${why.join(', ')}); export it in the lab's own layout.`);
}

/** config.json for the layout: the checkpoint's own keys kept, the model's sizes and options written over them. */
function configFor(layout: ExportLayout, m: Gpt, tied: boolean, base: Record<string, unknown> = {}): string {
  const c = m.config;
  const { quantization_config: _drop, ...kept } = base;
  const f = c.mlpHidden ?? 4 * c.dModel;
  const gelu = c.gelu === 'tanh' ? 'gelu_new' : 'gelu';
  if (layout === 'lab') return JSON.stringify({ ...c, untiedHead: c.untiedHead || !tied || undefined });
  if (layout === 'gpt2')
    return JSON.stringify(
      {
        ...kept,
        architectures: ['GPT2LMHeadModel'],
        model_type: 'gpt2',
        vocab_size: c.vocab,
        n_positions: c.context,
        n_ctx: c.context,
        n_embd: c.dModel,
        n_layer: c.layers,
        n_head: c.heads,
        n_inner: f === 4 * c.dModel ? null : f,
        activation_function: gelu,
        layer_norm_epsilon: c.normEps ?? 1e-5,
        scale_attn_weights: true,
        scale_attn_by_inverse_layer_idx: false,
        tie_word_embeddings: tied,
        torch_dtype: 'float32',
      },
      null,
      2,
    );
  return JSON.stringify(
    {
      ...kept,
      architectures: ['GPTNeoXForCausalLM'],
      model_type: 'gpt_neox',
      vocab_size: c.vocab,
      hidden_size: c.dModel,
      num_hidden_layers: c.layers,
      num_attention_heads: c.heads,
      intermediate_size: f,
      max_position_embeddings: c.context,
      rotary_pct: c.rotaryPct ?? 1,
      rotary_emb_base: c.rotaryBase ?? 10000,
      use_parallel_residual: c.parallelResidual ?? false,
      hidden_act: gelu,
      layer_norm_eps: c.normEps ?? 1e-5,
      attention_bias: true,
      tie_word_embeddings: tied,
      torch_dtype: 'float32',
    },
    null,
    2,
  );
}

/**
 * A quantized weight's codes and parameters as a file holds them (parseSafetensors with keepF64,
 * and the metadata's "quantization"), ready for decodeMatrix: the reference rebuild of a file.
 */
export function readQuantized(
  tensors: Map<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array }>,
  weight: string,
  info: QuantizedTensorInfo,
): EncodedMatrix {
  const get = (name: string | undefined) => {
    const t = name === undefined ? undefined : tensors.get(name);
    if (!t) throw new Error(`${weight}: the tensor "${name}" is missing`);
    return t;
  };
  const codes = get(info.codes);
  if (!(codes.data instanceof Int32Array)) throw new Error(`${weight}: "${info.codes}" is not an integer tensor`);
  const [r, c] = codes.shape;
  const outIn = info.layout === 'out-in';
  const dims: [number, number] = outIn ? [c, r] : [r, c];
  const granularity = info.granularity as EncodedMatrix['spec']['granularity'];
  const spec = { scheme: info.scheme, bits: info.bits, granularity, groupSize: info.group_size ?? undefined, clip: 'none' } as EncodedMatrix['spec'];
  const e: EncodedMatrix = {
    spec,
    dims,
    layout: outIn ? 'out-in' : 'in-out',
    codes: codes.data,
    groupsPerChannel: granularity === 'group' ? Math.ceil(dims[0] / (info.group_size as number)) : 1,
  };
  if (info.scales) {
    const s = get(info.scales).data;
    e.scales = Float64Array.from(s);
    e.scalesF32 = s instanceof Float32Array;
  }
  if (info.zeros) e.zeros = get(info.zeros).data as Int32Array;
  if (info.scale_codes) e.scaleCodes = get(info.scale_codes).data as Int32Array;
  if (info.tensor_scale) e.tensorScale = get(info.tensor_scale).data[0];
  if (info.codebook) e.codebook = Float32Array.from(get(info.codebook).data);
  return e;
}
