/** GPTQ: the layer algorithm (gptq.ts), its Float64 linear algebra (linalg.ts), exact erf (erf.ts). */
export { gptqLayer, proxyError, checkGptqSpec, type GptqOptions, type GptqLayerResult } from './gptq';
export { HessianAccumulator, hessian, choleskyLower, choleskyInverse, invertLower, hinvUpper } from './linalg';
export { erf, erfc, gelu } from './erf';
