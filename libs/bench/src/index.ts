export { BENCH_COMMANDS } from './commands/index';
export { intFlag } from './bench-flags';
export { type ModelEvalReport, runModelEval } from './eval/model-eval';
// What the CLI's end-to-end bench tests check the written reports against.
export { SYSTEMS } from './compare/compare-plan';
export { type CompareDocument, validateCompareDocument } from './compare/compare-results';
export { loadNodeLlamaCpp } from './compare/llama-cpp-target';
export { transformersAvailable } from './compare/transformers-target';
