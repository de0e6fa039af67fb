/** Help of the language-model task: what the page shows, and two sentences per LM method and term. */
export function LmHelpIntro() {
  return (
    <p>
      A small decoder-only transformer (a GPT) learns to predict the next character of a text, or a real checkpoint (GPT-2, Pythia) is loaded. A full-precision
      (FP) model comes first; the lab then compares ways of getting low-bit weights for its embeddings, attention, MLP and output head, by their validation NLL
      and by the text each model writes from the same prompt.
    </p>
  );
}

export function LmHelpEntries() {
  return (
    <>
      <dt>Validation NLL and perplexity</dt>
      <dd>
        The validation NLL is the mean negative log-likelihood of each next token of held-out text, in nats per token: how surprised the model is by text it has
        not trained on. Perplexity is e<sup>NLL</sup>, the number of equally likely tokens the model is effectively choosing among at each step, so an NLL rise
        of 0.1 nats means a perplexity about 10% higher.
      </dd>
      <dt>QA-LoRA</dt>
      <dd>
        QA-LoRA freezes the quantized model and trains only small low-rank adapters (x·A·B·α/r beside every quantized linear), which is far cheaper in memory
        than updating every weight. At the end the adapters are merged into the weights and the result is quantized again, and the table reports the NLL both
        before merging (adapters kept in full precision) and after.
      </dd>
      <dt>Data-free QAFT</dt>
      <dd>
        The FP model writes its own training text by sampling from an empty prompt (the number of sequences and the temperature are settings), so no real text
        is needed. The quantized student is fine-tuned to match the teacher's next-token distributions (KL) or the sampled tokens (CE), and is then evaluated on
        the real validation text like every other method.
      </dd>
      <dt>Forward tiled QAT</dt>
      <dd>
        The blocks are quantized in order, k at a time: each tile is trained so that its output matches the FP tile's output (an L2 loss) on inputs coming from
        the already-quantized tiles before it, so errors are corrected where they arise. An optional short global QAFT of the whole model then tunes the tiles
        together on the real loss.
      </dd>
    </>
  );
}
