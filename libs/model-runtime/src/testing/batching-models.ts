import { join } from 'node:path';
import { forgeModel } from '../forge/forge';
import { writeFp16DecoderFixture } from './layout-fixtures';
import { importStories260k } from './stories-dir';

/**
 * The decoder folders the continuous-batching and prefix-cache suites run on, each written into
 * the suite's temporary folder; `stories260k` is undefined when the checkpoint is not there.
 */
export const BATCHING_MODELS = {
  tinyFp16(tmp: string): string {
    const dir = join(tmp, 'tiny-fp16');
    writeFp16DecoderFixture(dir, { seed: 2, fp32: false });
    return dir;
  },
  tiny(tmp: string): string {
    const dir = join(tmp, 'tiny');
    forgeModel({ arch: 'llama', preset: 'tiny', seed: 2, out: dir });
    return dir;
  },
  stories260k(tmp: string): string | undefined {
    return importStories260k(join(tmp, 'model'));
  },
} as const;
