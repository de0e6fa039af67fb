/** Help of the polynomial task: what the page shows (the shared entries follow in Help). */
export function PolyHelpIntro() {
  return (
    <p>
      Each example is 7 random points in [0, 1]²; the network (an MLP, 14 inputs → 200 outputs) must output the least-squares polynomial of the chosen degree
      through them, sampled at 100 x positions. A full-precision (FP) model is trained first; the lab then compares ways of getting a model with low-bit weights
      and reports their test MSE relative to FP.
    </p>
  );
}
