import type {
  EmbedResult,
  GenerateResult,
  ModelConfig,
  QueuedEmbedJob,
  QueuedGenerateJob,
} from '@hotpath/contracts';
import { Attr, ROOT_CONTEXT, SpanKind, traceContentEnabled, withSpan, type Span } from '@hotpath/telemetry';
import type { BackendOutput, InferenceBackend, RunContext } from './inference-backend';

/**
 * Wraps a backend so every model execution gets a GenAI span (`text_completion tiny`,
 * `embeddings tiny-embed`) under the job's CONSUMER span, with the GenAI semantic-convention
 * attributes, the batch size and the execution provider. Prompt and output text are recorded only
 * when `HOTPATH_TRACE_CONTENT=true`.
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
    return withSpan(
      `text_completion ${this.model}`,
      {
        parent: ctx.trace ?? ROOT_CONTEXT,
        kind: SpanKind.INTERNAL,
        attributes: this.requestAttributes('text_completion', job.params.max_tokens, job.params.temperature),
      },
      async (span, trace) => {
        if (traceContentEnabled()) span.setAttribute(Attr.genAiPrompt, job.input.prompt);
        const out = await this.inner.generate(job, { ...ctx, trace });
        this.recordOutput(span, out);
        span.setAttribute(Attr.genAiFinishReasons, [out.result.finish_reason]);
        if (traceContentEnabled()) span.setAttribute(Attr.genAiCompletion, out.result.text);
        return out;
      },
    );
  }

  embed(job: QueuedEmbedJob, ctx: RunContext): Promise<BackendOutput<EmbedResult>> {
    return withSpan(
      `embeddings ${this.model}`,
      {
        parent: ctx.trace ?? ROOT_CONTEXT,
        kind: SpanKind.INTERNAL,
        attributes: this.requestAttributes('embeddings'),
      },
      async (span, trace) => {
        if (traceContentEnabled()) span.setAttribute(Attr.genAiPrompt, JSON.stringify(job.input.texts));
        const out = await this.inner.embed(job, { ...ctx, trace });
        this.recordOutput(span, out);
        return out;
      },
    );
  }

  private requestAttributes(
    operation: string,
    maxTokens?: number,
    temperature?: number,
  ): Record<string, string | number> {
    return {
      [Attr.genAiOperation]: operation,
      [Attr.genAiSystem]: 'hotpath',
      [Attr.genAiRequestModel]: this.model,
      [Attr.executionProvider]:
        this.config.backend === 'sim' ? 'sim' : (this.config.execution.providers[0] ?? 'cpu'),
      ...(maxTokens !== undefined ? { [Attr.genAiMaxTokens]: maxTokens } : {}),
      ...(temperature !== undefined ? { [Attr.genAiTemperature]: temperature } : {}),
    };
  }

  private recordOutput(span: Span, out: BackendOutput<unknown>): void {
    span.setAttribute(Attr.batchSize, out.batchSize);
    span.setAttribute('hotpath.batch_wait_ms', out.batchWaitMs);
    span.setAttribute('hotpath.inference_ms', out.inferenceMs);
    if (out.usage) {
      span.setAttribute(Attr.genAiInputTokens, out.usage.prompt_tokens);
      span.setAttribute(Attr.genAiOutputTokens, out.usage.completion_tokens);
    }
  }
}
