/** "What am I looking at?": the task (its own intro and entries, task-parts.tsx) and two sentences for each method and term. */
import { useLab } from '../store';
import { TASK_PARTS } from './task-parts';

export function Help() {
  const task = useLab((s) => s.config.task);
  const { HelpIntro: Intro, HelpEntries: Entries } = TASK_PARTS[task];
  return (
    <details className="card help" data-testid="help">
      <summary>What am I looking at?</summary>
      <Intro />
      <dl>
        {Entries ? <Entries /> : null}
        <dt>QAFT (quantization-aware fine-tuning)</dt>
        <dd>
          QAFT starts from the trained FP model and keeps training it with the weight quantizer inside the forward pass, so the network learns weights that
          still work after rounding. The optimizer updates hidden full-precision weights while the loss is always computed with their quantized values;
          “scratch” runs the same quantized training from a random init with the same budget.
        </dd>
        <dt>RTN (round-to-nearest)</dt>
        <dd>
          RTN is post-training quantization without any training: each FP weight is divided by a scale (absmax per output channel or per tensor; absmean per
          tensor at 1.58 bits), rounded to the nearest level and clipped to the grid. It costs no training and is nearly lossless at 8 bits, but its error grows
          quickly at 2–3 bits and below, which is the gap QAFT tries to close.
        </dd>
        <dt>Straight-through gradient (STE)</dt>
        <dd>
          Rounding is a step function whose derivative is zero almost everywhere, so back-propagating through it would never change the weights. The
          straight-through estimator uses the quantized weights in the forward pass but passes the gradient through the rounding unchanged, as if it were the
          identity, to the full-precision weights.
        </dd>
        <dt>1.58-bit (ternary) weights</dt>
        <dd>
          Each weight takes one of three values, −γ, 0 or +γ, which carries log₂ 3 ≈ 1.58 bits of information. As in BitNet b1.58, γ is the mean absolute value
          of the weight matrix (absmean, one scale per tensor) and each weight is W/γ rounded and clipped to {'{−1, 0, 1}'}.
        </dd>
        <dt>GPTQ</dt>
        <dd>
          GPTQ is post-training quantization with a correction: it quantizes a layer's weights one input column at a time and, after each column, moves the
          not-yet-quantized columns so that the layer's output on calibration inputs changes as little as possible (using the inverse of H = XᵀX, damped by a
          fraction of its mean diagonal). It needs no gradients and no labels, only a few calibration examples, and it minimizes each layer's local error rather
          than the network's loss.
        </dd>
        <dt>Data budget</dt>
        <dd>
          After the FP model is pretrained on all training examples, every method may use only the first N examples: GPTQ's calibration set and QAFT's (and
          scratch's) whole training set are the same N examples, so the comparison is fair. A small budget is the realistic case for PTQ; 0 means all training
          examples.
        </dd>
        <dt>Group and block granularity</dt>
        <dd>
          With group granularity every output channel is cut into groups of g consecutive inputs, each with its own scale (and zero point), as in GPTQ's g128; g
          must divide each layer's number of inputs, which is why the first layer (14 inputs) needs a small g or to stay unquantized. Block granularity cuts the
          flattened weight matrix into blocks of B weights (as bitsandbytes does for NF4), which works for any shape, since a block may run into the next
          channel.
        </dd>
        <dt>k-means and NF4 (non-uniform levels)</dt>
        <dd>
          k-means places 2ᵇ levels where the weights are dense (a codebook fitted per tensor or per channel, stored alongside the codes), so it wastes no levels
          on empty ranges. NF4 uses 16 fixed levels at the quantiles of a normal distribution, scaled by each block's absmax: good for bell-shaped weights, with
          no codebook to store.
        </dd>
        <dt>Local vs global error</dt>
        <dd>
          The local error of a layer is the mean over calibration examples of ‖x·(W<sub>q</sub> − W)‖², with x the layer's input on the quantized model's own
          path: how far the layer's output moves. GPTQ drives these down layer by layer, yet the test loss of the whole network can stay high because small
          local errors add up and interact; QAFT optimizes the global loss directly, even if its weights end up far from FP.
        </dd>
      </dl>
    </details>
  );
}
