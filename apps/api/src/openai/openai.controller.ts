import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ErrorCode,
  HotpathError,
  type GenerateResult,
  type JobView,
  type ModelConfig,
} from '@hotpath/contracts';
import { isTerminal } from '@hotpath/queue';
import { ApiKeyGuard, Tenant } from '../auth/api-key.guard';
import { API_CONFIG, SHUTDOWN_SIGNAL } from '../core/tokens';
import type { ApiConfig } from '../config/api-config';
import { toOpenAiErrorResponse } from '../errors/error-mapping';
import { clientWait, requestTraceContext } from '../http/http-hooks';
import { requestAbort } from '../http/request-abort';
import { JobEventsService } from '../jobs/job-events.service';
import { SseStream } from '../jobs/sse-stream';
import type { Submission } from '../jobs/jobs.service';
import {
  parseChatRequest,
  parseCompletionRequest,
  parseEmbeddingRequest,
  type OpenAiGenerationRequest,
} from './openai-request';
import {
  ChunkBuilder,
  embeddingResponse,
  finishReason,
  generationResponse,
  type GenerationKind,
  type ResponseMeta,
} from './openai-response';
import { OpenAiService, jobFailure, type OpenAiModel } from './openai.service';

/**
 * OpenAI-compatible routes (docs/openai.md), usable with the official clients (`baseURL` =
 * `http://host:3000/v1`). Same API keys and tenants as the native routes; errors in OpenAI's shape.
 */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class OpenAiController {
  constructor(
    @Inject(OpenAiService) private readonly openai: OpenAiService,
    @Inject(JobEventsService) private readonly events: JobEventsService,
    @Inject(SHUTDOWN_SIGNAL) private readonly shutdown: AbortController,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get('models')
  async models(): Promise<{ object: 'list'; data: OpenAiModel[] }> {
    return { object: 'list', data: await this.openai.models() };
  }

  @Get('models/:id')
  model(@Param('id') id: string): Promise<OpenAiModel> {
    return this.openai.model(id);
  }

  @Post('completions')
  @HttpCode(200)
  async completions(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown> | undefined> {
    const req = parseCompletionRequest(body);
    const model = this.openai.resolve(req.model, 'generate');
    return this.generate('completion', tenant, model, req, req.prompt, idempotencyKey, reply);
  }

  @Post('chat/completions')
  @HttpCode(200)
  async chatCompletions(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown> | undefined> {
    const req = parseChatRequest(body);
    const model = this.openai.resolve(req.model, 'generate');
    const prompt = await this.openai.renderChat(model, req.messages);
    return this.generate('chat', tenant, model, req, prompt, idempotencyKey, reply);
  }

  @Post('embeddings')
  @HttpCode(200)
  async embeddings(
    @Tenant() tenant: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown> | undefined> {
    const req = parseEmbeddingRequest(body);
    const model = this.openai.resolve(req.model, 'embed');
    const sub = await this.openai.submitEmbedding(tenant, model, req, {
      idempotencyKey,
      trace: requestTraceContext(reply.request),
    });
    const view = await this.finish(tenant, sub, reply);
    return view && embeddingResponse(model.name, view, req.encoding_format);
  }

  private async generate(
    kind: GenerationKind,
    tenant: string,
    model: ModelConfig,
    req: OpenAiGenerationRequest,
    prompt: string,
    idempotencyKey: string | undefined,
    reply: FastifyReply,
  ): Promise<Record<string, unknown> | undefined> {
    const sub = await this.openai.submitGeneration(tenant, model, req, prompt, {
      idempotencyKey,
      trace: requestTraceContext(reply.request),
      ...(kind === 'chat' ? { operation: 'chat' as const } : {}),
    });
    const meta: ResponseMeta = {
      kind,
      jobId: sub.view.id,
      created: Math.floor(Date.parse(sub.view.created_at) / 1000),
      model: model.name,
      fingerprint: await this.openai.fingerprint(model.name),
    };
    if (req.stream) {
      this.headers(reply, sub);
      await this.stream(tenant, sub, meta, req.includeUsage, reply);
      return undefined;
    }
    const view = await this.finish(tenant, sub, reply);
    return view && generationResponse(meta, view);
  }

  /**
   * Waits for the job; `undefined` (nothing sent) when the client left, in which case a job of its
   * own is cancelled.
   */
  private async finish(tenant: string, sub: Submission, reply: FastifyReply): Promise<JobView | undefined> {
    this.headers(reply, sub);
    const abort = requestAbort(reply, this.shutdown.signal);
    const view = await clientWait(reply.request, () =>
      this.openai.waitFinished(tenant, sub.view, abort.signal),
    );
    if (!isTerminal(view.status)) {
      if (abort.clientGone()) {
        if (owns(sub)) await this.openai.abandon(tenant, view.id);
        return undefined;
      }
      throw new HotpathError(
        ErrorCode.WorkerShutdown,
        `the server is shutting down; job ${view.id} keeps running (GET /v1/jobs/${view.id})`,
      );
    }
    if (view.status !== 'completed') throw jobFailure(view);
    return view;
  }

  /** SSE chunks as tokens arrive from the job's event stream, then `data: [DONE]`. */
  private async stream(
    tenant: string,
    sub: Submission,
    meta: ResponseMeta,
    includeUsage: boolean,
    reply: FastifyReply,
  ): Promise<void> {
    const record = await this.events.record(tenant, sub.view.id);
    const sse = SseStream.open(reply, { maxBufferedBytes: this.config.cluster.api.sse_max_buffered_bytes });
    const chunks = new ChunkBuilder(meta, includeUsage);
    const signal = AbortSignal.any([sse.signal, this.shutdown.signal]);
    let streamed = '';
    let next = 0;
    let finished = false;
    try {
      for await (const e of this.events.follow(record, '0', signal)) {
        if (e.type === 'token') {
          // A retried attempt restarts at index 0; what was sent cannot be taken back.
          if (e.index !== next) continue;
          next++;
          streamed += e.text;
          if (e.text !== '') sse.data(JSON.stringify(chunks.text(e.text)));
        } else if (e.type === 'end') {
          finished = true;
          const rec = e.record;
          if (!rec || rec.status !== 'completed') {
            const err = rec
              ? jobFailure({ ...sub.view, status: rec.status, error: rec.error })
              : jobFailure({
                  ...sub.view,
                  status: 'failed',
                  error: { code: 'not_found', message: 'the job expired' },
                });
            sse.data(JSON.stringify(toOpenAiErrorResponse(err).body));
          } else {
            const result = rec.result as GenerateResult | null;
            const text = result?.text ?? '';
            // Tokens missed (a cache hit has none) or a text finished differently: send the rest.
            if (text.startsWith(streamed) && text.length > streamed.length) {
              sse.data(JSON.stringify(chunks.text(text.slice(streamed.length))));
            }
            sse.data(JSON.stringify(chunks.finish(finishReason(result?.finish_reason))));
            if (includeUsage) sse.data(JSON.stringify(chunks.usage(rec.usage)));
          }
          sse.data('[DONE]');
        }
      }
    } catch (err) {
      if (sse.open) {
        sse.data(JSON.stringify(toOpenAiErrorResponse(err).body));
        sse.data('[DONE]');
      }
    } finally {
      if (!finished && sse.signal.aborted && owns(sub)) await this.openai.abandon(tenant, sub.view.id);
      sse.end();
    }
  }

  private headers(reply: FastifyReply, sub: Submission): void {
    void reply.header('x-hotpath-job-id', sub.view.id).header('x-cache', sub.cache);
    if (sub.rateLimit) void reply.headers(sub.rateLimit);
  }
}

/** Whether the request's job is its own to cancel (not one it joined, nor an idempotent replay). */
function owns(sub: Submission): boolean {
  return sub.cache !== 'coalesced' && !sub.replayed;
}
