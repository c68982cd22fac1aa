import type { ReplicaBatchReport } from '@hotpath/model-runtime';
import { Attr, linkTo, recordSpan, type Context, type Link } from '@hotpath/telemetry';

/**
 * Turns the iteration groups a continuously batching replica reports into batch spans, which are
 * the model executions of `generate` on onnx: one span per
 * prefill forward and per run of decode steps over an unchanged batch, linked to every member job's
 * span (the members' tags are their job trace contexts). Like the micro-batcher's batch spans they
 * are roots: a group serves many traces, so no single job's trace may own it.
 */
export function iterationGroupSpans(
  model: string,
  executionProvider: string,
): (group: PoolIterationGroup) => void {
  return (group) => {
    const links = group.tags.flatMap((t) => {
      const link = linkTo(t as Context);
      return link ? [link] : ([] as Link[]);
    });
    recordSpan(`${group.kind} ${model}`, {
      startTime: group.startedAt,
      endTime: group.endedAt,
      links,
      attributes: {
        [Attr.messagingBatchCount]: group.tags.length,
        [Attr.batchSize]: group.tags.length,
        [Attr.genAiOperation]: 'text_completion',
        [Attr.genAiProvider]: 'hotpath',
        [Attr.genAiRequestModel]: model,
        [Attr.replica]: group.replica,
        [Attr.executionProvider]: executionProvider,
        'hotpath.batch.forwards': group.forwards,
      },
    });
  };
}
