import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { AdminKeyGuard } from '../webhooks/admin-key.guard';
import { DASHBOARD_HTML, DASHBOARD_JS } from './queue-dashboard-page';
import { QueueOverviewReader, type QueueOverview } from './queue-overview';

/** Same origin only, no inline script: the page's script is served next to it. */
const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/** {@link AdminKeyGuard} that makes browsers ask for the key: a 401 carries a Basic challenge. */
@Injectable()
export class AdminPageGuard implements CanActivate {
  constructor(@Inject(AdminKeyGuard) private readonly inner: AdminKeyGuard) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    try {
      return await this.inner.canActivate(ctx);
    } catch (err) {
      if (err instanceof HotpathError && err.code === ErrorCode.Unauthorized) {
        void ctx
          .switchToHttp()
          .getResponse<FastifyReply>()
          .header('www-authenticate', 'Basic realm="Hotpath admin", charset="UTF-8"');
      }
      throw err;
    }
  }
}

/**
 * The read-only queue dashboard: the page (`/admin/queues`, a browser logs in with any user name
 * and an admin key as password) and its data, also under `/v1/admin/queues` for scripts.
 */
@Controller()
export class QueueDashboardController {
  constructor(@Inject(QueueOverviewReader) private readonly overview: QueueOverviewReader) {}

  @Get('admin/queues')
  @UseGuards(AdminPageGuard)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_CSP)
  @Header('cache-control', 'no-store')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Get('admin/queues/app.js')
  @UseGuards(AdminPageGuard)
  @Header('content-type', 'application/javascript; charset=utf-8')
  @Header('cache-control', 'no-store')
  script(): string {
    return DASHBOARD_JS;
  }

  @Get('admin/queues/data.json')
  @UseGuards(AdminPageGuard)
  @Header('cache-control', 'no-store')
  data(): Promise<QueueOverview> {
    return this.overview.read();
  }

  /** Per model and shard: counts, oldest waiting age, throughput, recent failures; and the workers. */
  @Get('v1/admin/queues')
  @UseGuards(AdminKeyGuard)
  @Header('cache-control', 'no-store')
  queues(): Promise<QueueOverview> {
    return this.overview.read();
  }
}
