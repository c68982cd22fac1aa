import { basename, dirname } from 'node:path';

type TransformersModule = typeof import('@huggingface/transformers', {
  with: { 'resolution-mode': 'import' },
});

/** A model folder loaded by Hugging Face transformers.js from local files only. */
export interface TransformersModel {
  /** Prompt ids as transformers.js' tokenizer encodes them (special tokens included). */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Greedy decoding; returns the generated ids only (the prompt stripped). */
  greedy(prompt: string, maxNewTokens: number): Promise<number[]>;
  dispose(): Promise<void>;
}

let loaded: Promise<TransformersModule> | undefined;

/** transformers.js is ESM-only at heart: load it once with a dynamic import, remote hub access off. */
function transformers(): Promise<TransformersModule> {
  loaded ??= import('@huggingface/transformers').then((m) => {
    m.env.allowRemoteModels = false;
    m.env.allowLocalModels = true;
    m.env.useFSCache = false;
    return m;
  });
  return loaded;
}

const ids = (data: ArrayLike<number | bigint>): number[] => Array.from(data, (v) => Number(v));

/**
 * Loads a docs/models.md#the-model-folder model folder as it is. The only option it needs: `subfolder: ''`, because
 * transformers.js looks for `onnx/model.onnx` by default while our folder keeps `model.onnx` at the top.
 */
export async function loadTransformersModel(dir: string): Promise<TransformersModel> {
  const t = await transformers();
  // localModelPath is global state; set it for every load (tests load folders one at a time).
  t.env.localModelPath = `${dirname(dir)}/`;
  const id = basename(dir);
  const tokenizer = await t.AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const model = await t.AutoModelForCausalLM.from_pretrained(id, {
    local_files_only: true,
    subfolder: '',
    dtype: 'fp32',
    device: 'cpu',
  });
  const encode = (text: string): number[] =>
    ids(tokenizer(text).input_ids.data as ArrayLike<number | bigint>);
  return {
    encode,
    decode: (tokens) => tokenizer.decode([...tokens], { skip_special_tokens: true }),
    async greedy(prompt, maxNewTokens) {
      const inputs = tokenizer(prompt);
      const out = (await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false })) as {
        data: ArrayLike<number | bigint>;
      };
      const promptLen = (inputs.input_ids.dims as number[])[1] as number;
      return ids(out.data).slice(promptLen);
    },
    dispose: () => model.dispose().then(() => undefined),
  };
}
