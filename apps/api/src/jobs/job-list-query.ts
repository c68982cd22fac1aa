import { z } from 'zod';
import { JobStatusSchema, type JobView } from '@hotpath/contracts';
import { toJobView, type JobListPage, type JobListQuery } from '@hotpath/queue';
import { parseOrThrow } from './request-validation';

/** Listing pages hold at most this many jobs. */
export const MAX_LIST_LIMIT = 100;

const ListQuerySchema = z.strictObject({
  status: JobStatusSchema.optional(),
  model: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(20),
  cursor: z.string().min(1).max(256).optional(),
});

/** `GET /v1/admin/jobs` also filters by tenant. */
const AdminListQuerySchema = ListQuerySchema.extend({ tenant: z.string().min(1).max(128).optional() });

/** A job as a listing shows it: the job without its `result` (read it with `GET /v1/jobs/{id}`). */
export type JobListEntry = Omit<JobView, 'result'>;

/** The answer of a listing route. */
export interface JobListView<E = JobListEntry> {
  object: 'list';
  data: E[];
  /** Pass as `?cursor=` for the next (older) page; null on the last page. */
  next_cursor: string | null;
  has_more: boolean;
}

export function parseListQuery(query: unknown): Omit<JobListQuery, 'tenant'> {
  return parseOrThrow(ListQuerySchema, query ?? {});
}

export function parseAdminListQuery(query: unknown): Omit<JobListQuery, 'tenant'> & { tenant?: string } {
  return parseOrThrow(AdminListQuerySchema, query ?? {});
}

/** A page as tenants see it; `withTenant` adds each job's tenant (operators only). */
export function listView(
  page: JobListPage,
  withTenant = false,
): JobListView<JobListEntry & { tenant?: string }> {
  return {
    object: 'list',
    data: page.records.map((r) => {
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { result, ...rest } = toJobView(r);
      return withTenant ? { ...rest, tenant: r.tenant } : rest;
    }),
    next_cursor: page.next_cursor,
    has_more: page.next_cursor !== null,
  };
}
