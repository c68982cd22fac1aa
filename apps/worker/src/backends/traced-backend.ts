import type {
  EmbedResult,
  GenerateResult,
  ModelConfig,
  QueuedEmbedJob,
  QueuedGenerateJob,
} from '@hotpath/contracts';
import { Attr, ROOT_CONTEXT, spanOf, traceContentEnabled, type Span } from '@hotpath/telemetry';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';

/**
 * Wraps a backend so the job's CONSUMER span carries the GenAI semantic-convention attributes of
 * its request and outcome (`gen_ai.request.model`, `gen_ai.usage.*`, finish reasons), its batch
 * size, batch wait and inference time. The model executions themselves are the batch spans (one per
 * micro-batch or continuous-batching iteration group, linked to every member job): a model call
 * serves a whole batch, so a span per job around it would only repeat the batch's. Prompt and output
 * text are recorded only when `HOTPATH_TRACE_CONTENT=true`.
 */
export class TracedBackend implements InferenceBackend {
  readonly model: string;

  constructor(
    private readonly inner: InferenceBackend,
    private readonly config: ModelConfig,
  ) {
    this.model = inner.model;
  }

  get digest(): string | undefined {
    return this.inner.digest;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    const span = this.annotate(ctx, 'text_completion', job.params.max_tokens, job.params.temperature);
    if (span && traceContentEnabled()) span.setAttribute(Attr.genAiPrompt, job.input.prompt);
    const out = await this.inner.generate(job, ctx);
    if (span) {
      this.recordOutput(span, out);
      span.setAttribute(Attr.genAiFinishReasons, [out.result.finish_reason]);
      if (traceContentEnabled()) span.setAttribute(Attr.genAiCompletion, out.result.text);
    }
    return out;
  }

  async embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    const span = this.annotate(ctx, 'embeddings');
    if (span && traceContentEnabled()) span.setAttribute(Attr.genAiPrompt, JSON.stringify(job.input.texts));
    const out = await this.inner.embed(job, ctx);
    if (span) this.recordOutput(span, out);
    return out;
  }

  /** The job's span with its request attributes set; undefined when the job is not traced. */
  private annotate(
    ctx: RunContext,
    operation: string,
    maxTokens?: number,
    temperature?: number,
  ): Span | undefined {
    const span = spanOf(ctx.trace ?? ROOT_CONTEXT);
    if (!span?.isRecording()) return undefined;
    span.setAttributes({
      [Attr.genAiOperation]: operation,
      [Attr.genAiSystem]: 'hotpath',
      [Attr.genAiRequestModel]: this.model,
      [Attr.executionProvider]: executionProvider(this.config),
      ...(maxTokens !== undefined ? { [Attr.genAiMaxTokens]: maxTokens } : {}),
      ...(temperature !== undefined ? { [Attr.genAiTemperature]: temperature } : {}),
    });
    return span;
  }

  private recordOutput(span: Span, out: BackendOutput<unknown>): void {
    span.setAttributes({
      [Attr.batchSize]: out.batchSize,
      'hotpath.batch_wait_ms': out.batchWaitMs,
      'hotpath.inference_ms': out.inferenceMs,
      ...(out.usage
        ? {
            [Attr.genAiInputTokens]: out.usage.prompt_tokens,
            [Attr.genAiOutputTokens]: out.usage.completion_tokens,
          }
        : {}),
    });
  }
}

/** The execution provider a model's batches run on (`sim` for the simulated backend). */
export function executionProvider(config: ModelConfig): string {
  return config.backend === 'sim' ? 'sim' : (config.execution.providers[0] ?? 'cpu');
}
