import { performance } from 'node:perf_hooks';
import { DelayedError, UnrecoverableError } from 'bullmq';
import {
  ErrorCode,
  QueuedJobSchema,
  formatIssues,
  type GenerateResult,
  type JobResult,
  type ModelConfig,
  type QueuedJob,
  type Timings,
} from '@hotpath/contracts';
import type { JobEventPublisher, JobEventSink, JobStore } from '@hotpath/queue';
import {
  ROOT_CONTEXT,
  traceLogFields,
  type Context,
  type HotpathMetrics,
  type Logger,
} from '@hotpath/telemetry';
import type { BackendOutput, InferenceBackend, RunContext, TokenEvent } from '../backends/inference-backend';
import {
  JobAbort,
  abortKind,
  admitJob,
  errorMessage,
  isLastAttempt,
  jobTimings,
  settleRun,
  withModelDefaults,
  type AbortKind,
} from './job-decisions';
import type { CacheFiller } from './cache-filler';
import type { WebhookHandOff } from './webhook-hand-off';
import type { TenantUsage } from './tenant-usage';

/** A model this worker serves: its config and its started backend. */
export interface ServedModel {
  config: ModelConfig;
  backend: InferenceBackend;
}

export interface JobRunnerDeps {
  store: JobStore;
  metrics: HotpathMetrics;
  logger: Logger;
  /** Fills the result cache before a job completes and lands its single-flight after. */
  cacheFiller: CacheFiller;
  /** Writes each job's event stream (status, tokens, done/error) for SSE clients. */
  events: JobEventPublisher;
  /** Schedules the webhook of jobs that carry one when they complete or fail. */
  webhooks: WebhookHandOff;
  /** Counts ended jobs per tenant (usage, tenant metrics). */
  tenantUsage: TenantUsage;
}

/**
 * What the runner needs of a queued job: a BullMQ `Job`, or a job of the shard's direct lane
 * (`lane`: its first attempt; `moveToDelayed` hands it into BullMQ).
 */
export interface QueueJob {
  id?: string | undefined;
  data: unknown;
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
  readonly lane?: boolean;
}

/** How a job ended in this worker; the BullMQ job's return value. */
export type RunOutcome = 'completed' | 'cancelled' | 'skipped';

/** Outcome labels of `hotpath_jobs_total` the worker reports. */
type JobOutcomeLabel = 'completed' | 'failed' | 'cancelled' | 'deadline_exceeded';

/**
 * Runs one BullMQ job on its model's backend and records the outcome in the job store. It is
 * framework-free apart from BullMQ's control-flow errors: `UnrecoverableError` for poison input and
 * deadlines (no retries), the original error for retryable faults, and `DelayedError` after handing
 * a job back to the queue at shutdown (no attempt consumed).
 *
 * Every running job has an AbortController: cancellation (`cancel`), its deadline and shutdown
 * (`handBackAll`) abort it, and the abort's kind decides how the job is settled.
 */
export class JobRunner {
  private readonly inFlight = new Map<string, AbortController>();
  /** The logger of each running job (its `job_id`, `trace_id`, `span_id` bound). */
  private readonly jobLogs = new Map<string, Logger>();
  private handingBack = false;

  constructor(
    private readonly models: ReadonlyMap<string, ServedModel>,
    private readonly deps: JobRunnerDeps,
  ) {}

  /** Jobs currently running in this worker. */
  get activeCount(): number {
    return this.inFlight.size;
  }

  /** Ids of the jobs currently running in this worker. */
  activeJobIds(): string[] {
    return [...this.inFlight.keys()];
  }

  /** Aborts a running job whose cancellation was requested; false when it does not run here. */
  cancel(id: string): boolean {
    return this.abort(id, 'cancelled');
  }

  /**
   * Shutdown past the grace period: aborts every running job so it is handed back to its queue
   * without consuming an attempt, and hands back any job that still arrives.
   */
  handBackAll(): void {
    this.handingBack = true;
    for (const id of [...this.inFlight.keys()]) this.abort(id, 'shutdown');
  }

  /**
   * Re-reads the records of running jobs after missed pub/sub messages: aborts the cancelled ones,
   * and starts the token events of those a follower watches now.
   */
  async recheckCancelled(): Promise<void> {
    const ids = this.activeJobIds();
    const records = await this.deps.store.getMany(ids);
    records.forEach((r, i) => {
      const id = ids[i];
      if (id === undefined) return;
      if (r?.status === 'cancelled') this.cancel(id);
      else if (r?.watched) this.watched(id);
    });
  }

  /** A follower appeared for job `id` (if it runs here, its token events start). */
  watched(id: string): void {
    this.deps.events.watch(id);
  }

  /**
   * Processes one job taken from the queue of `modelName`; `token` is the BullMQ lock token, `trace`
   * the job's CONSUMER span context (its backend annotates it; cache fill and webhook spans are its
   * children).
   */
  async run(
    modelName: string,
    job: QueueJob,
    token: string | undefined,
    trace: Context = ROOT_CONTEXT,
  ): Promise<RunOutcome> {
    const id = job.id ?? '';
    // Every line about this job carries its id and trace: the join key between logs and traces.
    // An explicit child logger, not AsyncLocalStorage, whose promise hooks tax every promise on Node 20.
    this.jobLogs.set(id, this.deps.logger.child({ job_id: id, ...traceLogFields(trace) }));
    try {
      return await this.runJob(modelName, job, token, trace);
    } finally {
      this.jobLogs.delete(id);
    }
  }

  private async runJob(
    modelName: string,
    job: QueueJob,
    token: string | undefined,
    trace: Context,
  ): Promise<RunOutcome> {
    const served = this.models.get(modelName);
    const id = job.id ?? '';
    if (!served) throw new UnrecoverableError(`model "${modelName}" is not served by this worker`);
    const { config } = served;

    const parsed = QueuedJobSchema.safeParse(job.data);
    if (!parsed.success) {
      return this.failInvalid(id, config, 'unknown', `invalid job payload:\n${formatIssues(parsed.error)}`);
    }
    const data = parsed.data;
    if (this.handingBack) return this.handBack(job, token, data, false);

    const startedAt = Date.now();
    // The usual case needs no read of the record: `markRunning` below moves it only from queued or
    // running, and its answer says why it did not (cancelled, finished, gone). Only an expired job
    // reads it first, so that a job cancelled or finished meanwhile is skipped, not failed.
    const expired = data.deadline_at !== null && startedAt >= data.deadline_at;
    const status = expired ? (await this.deps.store.get(data.id))?.status : 'queued';
    const admission = admitJob(data, config, status, startedAt);
    switch (admission.action) {
      case 'invalid':
        return this.failInvalid(data.id, config, data.task, admission.message);
      case 'skip':
        this.log(data.id).debug('job skipped', { model: config.name, why: admission.why });
        return 'skipped';
      case 'deadline_exceeded':
        return this.failDeadline(data, config, jobTimings(data.enqueued_at, startedAt, startedAt), false);
      case 'run':
        break;
    }

    const controller = new AbortController();
    this.inFlight.set(data.id, controller);
    let deadlineTimer: NodeJS.Timeout | undefined;
    let events: JobEventSink | undefined;
    try {
      // Shutdown may have passed its grace period while the record was being read.
      if (this.handingBack) return await this.handBack(job, token, data, false);
      const mark = await this.deps.store.markRunning(data.id, startedAt);
      if (!mark.applied) {
        this.log(data.id).debug('job skipped', {
          model: config.name,
          why: mark.previous ?? 'missing',
        });
        return 'skipped';
      }
      events = this.deps.events.open(data, mark.watched);
      events?.push({ type: 'status', status: 'running', attempt: mark.attempt });
      if (data.deadline_at !== null) {
        deadlineTimer = setTimeout(() => this.abort(data.id, 'deadline'), data.deadline_at - startedAt);
      }
      this.deps.metrics.queueWait.observe(
        { model: config.name },
        Math.max(0, startedAt - data.enqueued_at) / 1000,
      );
      return await this.execute(
        job,
        token,
        data,
        served,
        { signal: controller.signal, trace },
        startedAt,
        events,
      );
    } finally {
      events?.close();
      await events?.flush();
      clearTimeout(deadlineTimer);
      this.inFlight.delete(data.id);
    }
  }

  private async execute(
    job: QueueJob,
    token: string | undefined,
    data: QueuedJob,
    served: ServedModel,
    { signal, trace }: { signal: AbortSignal; trace: Context },
    startedAt: number,
    events: JobEventSink | undefined,
  ): Promise<RunOutcome> {
    const { config, backend } = served;
    const model = config.name;
    const timing = new TokenTiming(this.deps.metrics, model, data.enqueued_at);
    const ctx: RunContext = {
      signal,
      trace,
      onToken: (t: TokenEvent) => {
        timing.onToken(t);
        events?.push({ type: 'token', index: t.index, text: t.text, token_id: t.token_id });
      },
    };
    const input = withModelDefaults(data, config);

    let output: BackendOutput<JobResult> | undefined;
    let error: unknown;
    try {
      output =
        input.task === 'generate' ? await backend.generate(input, ctx) : await backend.embed(input, ctx);
    } catch (err) {
      error = err;
    }
    const finishedAt = Date.now();
    const generated = output && isGenerateResult(output.result) ? output.result.tokens.length : timing.count;
    if (data.task === 'generate' && generated > 0)
      this.deps.metrics.tokensGenerated.inc({ model }, generated);
    if (output) {
      if (output.usage) this.deps.metrics.promptTokens.inc({ model }, output.usage.prompt_tokens);
      this.deps.metrics.inferenceDuration.observe({ model }, output.inferenceMs / 1000);
      this.deps.metrics.batchSize.observe({ model }, output.batchSize);
    }
    const timings = jobTimings(data.enqueued_at, startedAt, finishedAt, output);
    // Every token is in Redis before the record turns terminal, so a reader that sees the end has them all.
    await events?.flush();
    const settlement = settleRun({
      succeeded: output !== undefined,
      cutShort:
        output !== undefined &&
        isGenerateResult(output.result) &&
        output.result.finish_reason === 'cancelled',
      abort: abortKind(signal),
      error,
      lastAttempt: isLastAttempt(job.attemptsMade, job.opts.attempts),
    });

    switch (settlement.action) {
      case 'complete': {
        if (!output) throw new Error('unreachable: complete without output');
        // Filled even if a cancel wins below: the entry is this model version's answer all the same.
        await this.deps.cacheFiller.fill(data, config, backend.digest, output, trace);
        const done = await this.deps.store.complete(data.id, {
          result: output.result,
          usage: output.usage,
          timings,
          finishedAt,
        });
        if (done.applied) await this.deps.cacheFiller.land(data, config);
        // Not applied: the client cancelled while it ran, and the cancellation stands.
        await events?.end(done.applied ? { type: 'done' } : CANCELLED_EVENT);
        if (done.applied) await this.deps.webhooks.finished(data, trace);
        this.count(data.id, model, data.task, done.applied ? 'completed' : 'cancelled', data.enqueued_at);
        this.deps.tenantUsage.ended(
          data.tenant,
          model,
          done.applied ? 'completed' : 'cancelled',
          output.usage,
        );
        return done.applied ? 'completed' : 'cancelled';
      }
      case 'cancelled':
        // Normally already cancelled by the API; this makes sure a stray cancel message still ends the record.
        await this.deps.store.cancel(data.id);
        await events?.end(CANCELLED_EVENT);
        this.count(data.id, model, data.task, 'cancelled', data.enqueued_at);
        this.deps.tenantUsage.ended(data.tenant, model, 'cancelled', output?.usage ?? null);
        return 'cancelled';
      case 'deadline_exceeded':
        return this.failDeadline(data, config, timings, true, events);
      case 'hand_back':
        events?.push({ type: 'status', status: 'queued' });
        return this.handBack(job, token, data, true);
      case 'retry':
        await this.deps.store.markRequeued(data.id);
        events?.push({ type: 'status', status: 'queued' });
        this.log(data.id).warn('job attempt failed; will retry', {
          job_id: data.id,
          model,
          attempt: job.attemptsMade + 1,
          error: error instanceof Error ? error : errorMessage(error),
        });
        throw error instanceof Error ? error : new Error(errorMessage(error));
      case 'fail': {
        await this.deps.store.fail(data.id, { code: settlement.code, message: settlement.message }, timings);
        await events?.end({ type: 'error', code: settlement.code, message: settlement.message });
        await this.deps.webhooks.finished(data, trace);
        this.count(data.id, model, data.task, 'failed', data.enqueued_at);
        this.deps.tenantUsage.ended(data.tenant, model, 'failed', null);
        this.log(data.id).warn('job failed', { model, code: settlement.code });
        throw new UnrecoverableError(settlement.message);
      }
    }
  }

  private async failInvalid(id: string, config: ModelConfig, task: string, message: string): Promise<never> {
    if (id) await this.deps.store.fail(id, { code: ErrorCode.InvalidInput, message });
    this.count(id, config.name, task, 'failed');
    this.log(id).warn('poison job failed without retries', { model: config.name });
    throw new UnrecoverableError(message);
  }

  private async failDeadline(
    data: QueuedJob,
    config: ModelConfig,
    timings: Timings,
    ran: boolean,
    events?: JobEventSink,
  ): Promise<never> {
    const message = ran
      ? 'deadline passed while the job was running'
      : 'deadline passed before the job started';
    await this.deps.store.fail(data.id, { code: ErrorCode.DeadlineExceeded, message }, timings);
    await events?.end({ type: 'error', code: ErrorCode.DeadlineExceeded, message });
    await this.deps.webhooks.finished(data);
    this.count(data.id, config.name, data.task, 'deadline_exceeded', data.enqueued_at);
    this.deps.tenantUsage.ended(data.tenant, config.name, 'failed', null);
    throw new UnrecoverableError(message);
  }

  /**
   * Returns a job to its queue without consuming an attempt (BullMQ's documented manual-delay
   * pattern): the record goes back to `queued` first, so the next worker's `markRunning` wins.
   */
  private async handBack(
    job: QueueJob,
    token: string | undefined,
    data: QueuedJob,
    wasRunning: boolean,
  ): Promise<never> {
    if (!token) throw new Error(`cannot hand job ${data.id} back without its lock token`);
    if (wasRunning) await this.deps.store.markHandedBack(data.id);
    await job.moveToDelayed(Date.now(), token);
    this.log(data.id).info('job handed back to the queue', { model: data.model });
    throw new DelayedError();
  }

  private log(id: string): Logger {
    return this.jobLogs.get(id) ?? this.deps.logger;
  }

  private abort(id: string, kind: AbortKind): boolean {
    const controller = this.inFlight.get(id);
    if (!controller) return false;
    if (!controller.signal.aborted) controller.abort(new JobAbort(kind));
    return true;
  }

  /**
   * Counts a finished run and logs it (one line per job, carrying its `job_id` and `trace_id`);
   * with `enqueuedAt`, also its end-to-end latency.
   */
  private count(
    id: string,
    model: string,
    task: string,
    outcome: JobOutcomeLabel,
    enqueuedAt?: number,
  ): void {
    this.deps.metrics.jobsTotal.inc({ model, task, stage: 'worker', outcome });
    const ms = enqueuedAt === undefined ? undefined : Math.max(0, Date.now() - enqueuedAt);
    if (ms !== undefined) this.deps.metrics.jobDuration.observe({ model, task, outcome }, ms / 1000);
    this.log(id).info('job finished', {
      model,
      task,
      outcome,
      ...(ms !== undefined ? { duration_ms: ms } : {}),
    });
  }
}

const CANCELLED_EVENT = {
  type: 'error',
  code: ErrorCode.Cancelled,
  message: 'the job was cancelled',
} as const;

function isGenerateResult(r: JobResult): r is GenerateResult {
  return 'finish_reason' in r;
}

/** Time to first token (from enqueue) and inter-token latency of one sequence, from `onToken` calls. */
class TokenTiming {
  count = 0;
  private last = 0;

  constructor(
    private readonly metrics: HotpathMetrics,
    private readonly model: string,
    private readonly enqueuedAt: number,
  ) {}

  onToken(_token: TokenEvent): void {
    const t = performance.now();
    if (this.count === 0) {
      this.metrics.timeToFirstToken.observe(
        { model: this.model },
        Math.max(0, Date.now() - this.enqueuedAt) / 1000,
      );
    } else {
      this.metrics.interTokenLatency.observe({ model: this.model }, (t - this.last) / 1000);
    }
    this.last = t;
    this.count++;
  }
}
