import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { loadModelFolder, type LoadedModel } from '../model/model-loader';
import type { OnnxSelection } from '../model/model-layout';
import { DEFAULT_EXECUTION, OrtSession, type ExecutionSettings } from '../session/ort-session';
import { CausalLm } from './causal-lm';
import { embedTexts } from './embedder';
import {
  generate,
  type GenerateHooks,
  type GenerationDefaults,
  type GenerationOutput,
  type GenerationRequest,
} from './generator';

/** Options of {@link LocalModel.load}. */
export interface LocalModelOptions {
  execution?: ExecutionSettings;
  log?: (msg: string) => void;
  /** Run one tiny inference at load so the first request does not pay for lazy initialisation. */
  warmup?: boolean;
  /** Default `max_tokens` when a request has none. */
  defaultMaxTokens?: number;
  /** Which graph of the folder to serve (dtype or file); fp32 `model.onnx` by default. */
  onnx?: OnnxSelection;
}

/** A model folder loaded into one session, in this thread: generation or embeddings. */
export class LocalModel {
  private constructor(
    readonly info: LoadedModel,
    private readonly session: OrtSession,
    private readonly lm: CausalLm | null,
    private readonly defaultMaxTokens: number,
  ) {}

  /** Validates the folder, creates the session and (by default) warms it up. */
  static async load(dir: string, opts: LocalModelOptions = {}): Promise<LocalModel> {
    const info = loadModelFolder(dir, opts.onnx);
    const session = await OrtSession.create(info.onnxPath, opts.execution ?? DEFAULT_EXECUTION, opts.log);
    const lm = info.kind === 'decoder' ? new CausalLm(session, info) : null;
    const model = new LocalModel(
      info,
      session,
      lm,
      opts.defaultMaxTokens ?? info.generationConfig.max_new_tokens ?? 64,
    );
    if (opts.warmup !== false) {
      if (lm)
        await model.generate([
          { prompt: [info.tokenizer.bosId ?? 1], params: { max_tokens: 1, temperature: 0 } },
        ]);
      else await model.embed(['warm up']);
    }
    return model;
  }

  /** The decoder, for tests and tools that need raw logits. */
  get causalLm(): CausalLm {
    if (!this.lm)
      throw new HotpathError(
        ErrorCode.InvalidInput,
        `model ${this.info.dir} is an encoder; it cannot generate`,
      );
    return this.lm;
  }

  /** Defaults a request without params gets (generation_config.json and the serving default). */
  get generationDefaults(): GenerationDefaults {
    const gc = this.info.generationConfig;
    return {
      maxTokens: this.defaultMaxTokens,
      temperature: gc.do_sample ? (gc.temperature ?? 1) : 0,
      eosIds: this.info.eosIds,
      padId: gc.pad_token_id ?? 0,
    };
  }

  /** Generates for all requests as one batch. */
  async generate(
    requests: readonly GenerationRequest[],
    hooks: GenerateHooks = {},
  ): Promise<GenerationOutput[]> {
    return await generate(this.causalLm, requests, this.generationDefaults, hooks);
  }

  /** Pooled (by default mean, L2-normalised) embeddings, one per text. */
  embed(texts: readonly string[]): Promise<number[][]> {
    if (this.info.kind !== 'encoder') {
      return Promise.reject(
        new HotpathError(ErrorCode.InvalidInput, `model ${this.info.dir} is a decoder; it cannot embed`),
      );
    }
    return embedTexts(this.session, this.info, texts);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
