/**
 * The quantizer zoo: spec + validation + storage accounting (spec.ts), the float formats (FP8,
 * MX, NVFP4: element grids and scale rules, formats.ts), the scalar core shared
 * with GPTQ (core.ts), host RTN on Float32Array (host.ts), tfjs ops with a straight-through
 * gradient for training (tf.ts), and 1-D k-means (kmeans.ts).
 */
export * from './spec';
export * from './formats';
export { F32, F64, absMax, fitGroup, quantizeValue, uniformRange, type GroupQuant, type Precision, type FitResult } from './core';
export { kmeans1d, type KmeansOptions, type KmeansResult } from './kmeans';
export { quantizeWeights, forEachGroup, sqError, type QuantizedWeights } from './host';
export { quantizeTensor, fakeQuant, specKey, type TfQuantOptions } from './tf';
