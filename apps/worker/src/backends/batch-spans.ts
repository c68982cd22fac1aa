import type { BatchReport } from '@hotpath/batching';
import { Attr, linkTo, recordSpan, type Context, type Link } from '@hotpath/telemetry';

/**
 * Turns the reports of both schedulers into batch spans, the model executions: one span per
 * micro-batch (`batch <model>`), per prefill forward (`prefill <model>`) and per run of decode steps
 * over an unchanged batch (`decode <model>`), linked to every member job's span (the members' tags
 * are their job trace contexts). They are roots: a batch serves many traces, so no single job's
 * trace may own it (OpenTelemetry's batch-processing pattern).
 */
export function batchSpans(
  model: string,
  attributes: Record<string, string | number>,
): (report: BatchReport & { replica?: number }) => void {
  return (report) => {
    const links = report.tags.flatMap((t) => {
      const link = linkTo(t as Context);
      return link ? [link] : ([] as Link[]);
    });
    recordSpan(`${report.kind} ${model}`, {
      startTime: report.startedAt,
      endTime: report.endedAt,
      links,
      error: report.error,
      attributes: {
        [Attr.messagingBatchCount]: report.size,
        [Attr.batchSize]: report.size,
        [Attr.genAiProvider]: 'hotpath',
        [Attr.genAiRequestModel]: model,
        'hotpath.batch.forwards': report.forwards,
        ...(report.replica !== undefined ? { [Attr.replica]: report.replica } : {}),
        ...(report.inputTokens !== undefined ? { [Attr.genAiInputTokens]: report.inputTokens } : {}),
        ...(report.outputTokens !== undefined ? { [Attr.genAiOutputTokens]: report.outputTokens } : {}),
        ...attributes,
      },
    });
  };
}
