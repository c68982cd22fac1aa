import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import {
  deadLetterView,
  type DeadLetterView,
  type WebhookDeadLetters,
  type WebhookQueue,
} from '@hotpath/queue';
import { AdminKeyGuard } from './admin-key.guard';
import { WEBHOOK_DEAD_LETTERS, WEBHOOK_QUEUE_PRODUCER } from './webhook-tokens';
import { WebhookTargetPolicy } from './webhook-target-policy';

const MAX_LIST = 1000;

/** Operator routes for webhook deliveries that failed their last attempt. */
@Controller('v1/admin/webhooks/dead-letters')
@UseGuards(AdminKeyGuard)
export class WebhookAdminController {
  constructor(
    @Inject(WEBHOOK_DEAD_LETTERS) private readonly deadLetters: WebhookDeadLetters,
    @Inject(WEBHOOK_QUEUE_PRODUCER) private readonly queue: WebhookQueue,
    @Inject(WebhookTargetPolicy) private readonly policy: WebhookTargetPolicy,
  ) {}

  /** Newest first; `?limit=N` (default 100, at most 1000). Secrets are never shown. */
  @Get()
  async list(
    @Query('limit') limitQuery: unknown,
  ): Promise<{ object: 'list'; data: DeadLetterView[]; total: number }> {
    let limit = 100;
    if (limitQuery !== undefined) {
      const n = typeof limitQuery === 'string' && /^\d{1,4}$/.test(limitQuery) ? Number(limitQuery) : NaN;
      if (!(n >= 1 && n <= MAX_LIST)) {
        throw new HotpathError(ErrorCode.InvalidRequest, `limit must be 1-${MAX_LIST}`, 'limit');
      }
      limit = n;
    }
    const [entries, total] = await Promise.all([this.deadLetters.list(limit), this.deadLetters.count()]);
    return { object: 'list', data: entries.map(deadLetterView), total };
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<DeadLetterView> {
    const d = await this.deadLetters.get(id);
    if (!d) throw notFound(id);
    return deadLetterView(d);
  }

  /**
   * Delivers the same notification again (same `webhook-id` and body, fresh signature and attempts)
   * and removes the dead letter. The target is checked against the current allow-list first.
   */
  @Post(':id/replay')
  @HttpCode(202)
  async replay(@Param('id') id: string): Promise<{ status: 'scheduled'; dead_letter: DeadLetterView }> {
    const d = await this.deadLetters.get(id);
    if (!d) throw notFound(id);
    this.policy.check(d.delivery.url, 'url');
    // Removing first makes concurrent replays of one entry schedule it once.
    if (!(await this.deadLetters.remove(id))) throw notFound(id);
    try {
      await this.queue.enqueue(d.delivery, { jobId: `${d.delivery.webhook_id}-replay-${d.id}` });
    } catch (err) {
      await this.deadLetters.add({ ...d }).catch(() => undefined);
      throw err;
    }
    return { status: 'scheduled', dead_letter: deadLetterView(d) };
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    if (!(await this.deadLetters.remove(id))) throw notFound(id);
  }
}

function notFound(id: string): HotpathError {
  return new HotpathError(ErrorCode.NotFound, `dead letter "${id.slice(0, 64)}" not found`);
}
