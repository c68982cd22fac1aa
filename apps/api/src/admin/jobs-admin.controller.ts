import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { listView, parseAdminListQuery, type JobListEntry, type JobListView } from '../jobs/job-list-query';
import { AdminKeyGuard } from '../webhooks/admin-key.guard';

/** Operators' view of jobs across tenants. */
@Controller('v1/admin/jobs')
@UseGuards(AdminKeyGuard)
export class JobsAdminController {
  constructor(@Inject(JobsService) private readonly jobs: JobsService) {}

  /** Every tenant's jobs, newest first; the same filters as `GET /v1/jobs` plus `?tenant=`. */
  @Get()
  async list(@Query() query: unknown): Promise<JobListView<JobListEntry & { tenant?: string }>> {
    const { tenant, ...q } = parseAdminListQuery(query);
    return listView(await this.jobs.list(tenant, q), true);
  }
}
