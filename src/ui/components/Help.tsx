/** "What am I looking at?": the task and two sentences for each method and term. */
export function Help() {
  return (
    <details className="card help" data-testid="help">
      <summary>What am I looking at?</summary>
      <p>
        Each example is 7 random points in [0, 1]²; the network (an MLP, 14 inputs → 200 outputs) must output the least-squares polynomial of the
        chosen degree through them, sampled at 100 x positions. A full-precision (FP) model is trained first; the lab then compares ways of
        getting a model with low-bit weights and reports their test MSE relative to FP.
      </p>
      <dl>
        <dt>QAFT (quantization-aware fine-tuning)</dt>
        <dd>
          QAFT starts from the trained FP model and keeps training it with the weight quantizer inside the forward pass, so the network learns
          weights that still work after rounding. The optimizer updates hidden full-precision weights while the loss is always computed with
          their quantized values; “scratch” runs the same quantized training from a random init with the same budget.
        </dd>
        <dt>RTN (round-to-nearest)</dt>
        <dd>
          RTN is post-training quantization without any training: each FP weight is divided by a scale (absmax per output channel or per
          tensor; absmean per tensor at 1.58 bits), rounded to the nearest level and clipped to the grid. It costs no training and is nearly
          lossless at 8 bits, but its error grows quickly at 2–3 bits and below, which is the gap QAFT tries to close.
        </dd>
        <dt>Straight-through gradient (STE)</dt>
        <dd>
          Rounding is a step function whose derivative is zero almost everywhere, so back-propagating through it would never change the
          weights. The straight-through estimator uses the quantized weights in the forward pass but passes the gradient through the rounding
          unchanged, as if it were the identity, to the full-precision weights.
        </dd>
        <dt>1.58-bit (ternary) weights</dt>
        <dd>
          Each weight takes one of three values, −γ, 0 or +γ, which carries log₂ 3 ≈ 1.58 bits of information. As in BitNet b1.58, γ is the
          mean absolute value of the weight matrix (absmean, one scale per tensor) and each weight is W/γ rounded and clipped to {'{−1, 0, 1}'}.
        </dd>
      </dl>
    </details>
  );
}
