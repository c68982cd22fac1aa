import type {
  EmbedResult,
  GenerateResult,
  ModelConfig,
  QueuedEmbedJob,
  QueuedGenerateJob,
  QueuedJob,
} from '@hotpath/contracts';
import {
  Attr,
  ROOT_CONTEXT,
  SpanKind,
  spanOf,
  traceContentEnabled,
  withSpan,
  type Attributes,
  type Span,
} from '@hotpath/telemetry';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';

/** `gen_ai.provider.name` of models Hotpath runs itself. */
export const GEN_AI_PROVIDER = 'hotpath';

type Operation = NonNullable<QueuedJob['operation']>;

/**
 * Wraps a backend so each job gets its OpenTelemetry GenAI inference span, a child of the job's
 * CONSUMER span named `{gen_ai.operation.name} {gen_ai.request.model}` (`chat tiny`,
 * `text_completion tiny`, `embeddings tiny-embed`), with the request's sampling attributes, the
 * response id (the job id) and model, finish reasons, token usage (prefix-cache reuse as
 * `gen_ai.usage.cache_read.input_tokens`) and Hotpath's batch size, batch wait and inference time.
 * The model executions themselves are the batch spans, linked to this span of every member job.
 * Messages are recorded (`gen_ai.input.messages`, `gen_ai.output.messages`) only when
 * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` (alias `HOTPATH_TRACE_CONTENT`). An
 * unsampled job gets no span at all.
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

  generate(job: QueuedGenerateJob, ctx: RunContext): Promise<BackendOutput<GenerateResult>> {
    const p = job.params;
    const request: Attributes = {
      ...(p.max_tokens !== undefined ? { [Attr.genAiMaxTokens]: p.max_tokens } : {}),
      ...(p.temperature !== undefined ? { [Attr.genAiTemperature]: p.temperature } : {}),
      ...(p.top_p !== undefined ? { [Attr.genAiTopP]: p.top_p } : {}),
      ...(p.top_k !== undefined ? { [Attr.genAiTopK]: p.top_k } : {}),
      ...(p.seed !== undefined ? { [Attr.genAiSeed]: p.seed } : {}),
      ...(p.stop !== undefined ? { [Attr.genAiStopSequences]: p.stop } : {}),
    };
    const operation = job.operation === 'chat' ? 'chat' : 'text_completion';
    return this.traced(
      job,
      ctx,
      operation,
      request,
      [job.input.prompt],
      (c) => this.inner.generate(job, c),
      (span, out) => {
        span.setAttribute(Attr.genAiFinishReasons, [out.result.finish_reason]);
        if (traceContentEnabled()) {
          span.setAttribute(
            Attr.genAiOutputMessages,
            JSON.stringify([
              {
                role: 'assistant',
                parts: [{ type: 'text', content: out.result.text }],
                finish_reason: out.result.finish_reason,
              },
            ]),
          );
        }
      },
    );
  }

  embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    return this.traced(job, ctx, 'embeddings', {}, job.input.texts, (c) => this.inner.embed(job, c));
  }

  private async traced<R>(
    job: QueuedJob,
    ctx: RunContext,
    operation: Operation,
    request: Attributes,
    inputs: readonly string[],
    run: (ctx: RunContext) => Promise<BackendOutput<R>>,
    annotate?: (span: Span, out: BackendOutput<R>) => void,
  ): Promise<BackendOutput<R>> {
    const parent = ctx.trace ?? ROOT_CONTEXT;
    if (!spanOf(parent)?.isRecording()) return run(ctx);
    const attributes: Attributes = {
      [Attr.genAiOperation]: operation,
      [Attr.genAiProvider]: GEN_AI_PROVIDER,
      [Attr.genAiRequestModel]: this.model,
      [Attr.executionProvider]: executionProvider(this.config),
      ...request,
    };
    if (traceContentEnabled()) {
      attributes[Attr.genAiInputMessages] = JSON.stringify(
        inputs.map((content) => ({ role: 'user', parts: [{ type: 'text', content }] })),
      );
    }
    return withSpan(
      `${operation} ${this.model}`,
      { parent, kind: SpanKind.INTERNAL, attributes },
      async (span, inner) => {
        const out = await run({ ...ctx, trace: inner });
        span.setAttributes({
          [Attr.genAiResponseId]: job.id,
          [Attr.genAiResponseModel]: this.model,
          [Attr.batchSize]: out.batchSize,
          'hotpath.batch_wait_ms': out.batchWaitMs,
          'hotpath.inference_ms': out.inferenceMs,
          ...(out.usage
            ? {
                [Attr.genAiInputTokens]: out.usage.prompt_tokens,
                [Attr.genAiOutputTokens]: out.usage.completion_tokens,
              }
            : {}),
          ...(out.prefixHitTokens !== undefined ? { [Attr.genAiCacheReadTokens]: out.prefixHitTokens } : {}),
        });
        annotate?.(span, out);
        return out;
      },
    );
  }
}

/** The execution provider a model's batches run on (`sim` for the simulated backend). */
export function executionProvider(config: ModelConfig): string {
  return config.backend === 'sim' ? 'sim' : (config.execution.providers[0] ?? 'cpu');
}
