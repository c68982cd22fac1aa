import type { EngineBenchReport } from './engine-bench';

const pad = (s: string, n: number): string => s.padStart(n);

/** The human-readable report of `hotpath bench engine`. */
export function engineReportLines(r: EngineBenchReport): string[] {
  const m = r.model;
  const lines = [
    `model ${m.dir} (${m.engine} engine, ${m.replicas > 1 ? `${m.replicas} replicas × ` : ''}${m.threads} intra-op threads` +
      (m.gqa_max_rows === null
        ? ')'
        : m.gqa_max_rows === 0
          ? ', wide graph only)'
          : m.gqa_chunk_rows > 0
            ? `, GQA graph at every batch size in forwards of at most ${m.gqa_chunk_rows} rows)`
            : `, GQA graph up to ${m.gqa_max_rows} running sequences)`),
    `graph nodes: model.onnx ${m.nodes.model_onnx}` +
      (m.nodes.engine_graph === null ? '' : `, engine graph ${m.nodes.engine_graph}`) +
      (m.nodes.gqa_graph === null ? '' : `, GQA graph ${m.nodes.gqa_graph}`) +
      (m.nodes.decode_graph === null ? '' : `, decode-only wide graph ${m.nodes.decode_graph}`),
    `roofline: GEMM ${r.roofline.gemm.map((g) => `${g.gflops} GFLOP/s at ${g.rows} rows`).join(', ')}; ` +
      `copy ${r.roofline.memory_bandwidth_gb_s} GB/s` +
      (r.replica_roofline
        ? `; one replica's threads: ${r.replica_roofline.gemm.map((g) => `${g.gflops} at ${g.rows}`).join(', ')}`
        : ''),
    `model: ${(m.flops_per_token / 1e6).toFixed(1)} MFLOP per token (mean context), ${m.tokens_per_sequence} new tokens per sequence`,
    '',
    `${pad('streams', 8)} ${pad('tokens/s', 10)} ${pad('x 1 stream', 11)} ${pad('tok/CPU-s', 10)} ${pad('decode tok/s', 13)} ${pad('x 1 stream', 11)} ${pad('rows', 6)} ${pad('step ms', 9)} ${pad('context', 8)} ${pad('limit tok/s', 12)} ${pad('% limit', 8)}`,
  ];
  for (const l of r.levels) {
    lines.push(
      `${pad(String(l.streams), 8)} ${pad(l.tokens_per_s.toFixed(0), 10)} ${pad(l.speedup_vs_1 === null ? '-' : `${l.speedup_vs_1}x`, 11)} ${pad(l.tokens_per_cpu_s.toFixed(0), 10)} ` +
        `${pad(l.decode_tokens_per_s.toFixed(0), 13)} ${pad(l.decode_speedup_vs_1 === null ? '-' : `${l.decode_speedup_vs_1}x`, 11)} ${pad(l.mean_decode_batch.toFixed(1), 6)} ` +
        `${pad(l.step_ms.toFixed(2), 9)} ${pad(l.mean_context.toFixed(0), 8)} ${pad(l.roofline_tokens_per_s.toFixed(0), 12)} ${pad(`${l.pct_of_roofline}%`, 8)}`,
    );
  }
  lines.push('');
  for (const [name, t] of Object.entries(r.targets)) {
    const verdict = t.met === null ? 'n/a' : t.met ? 'MET' : 'MISS';
    lines.push(`target ${name} ${t.target}: ${t.value ?? '-'} ${verdict}`);
  }
  return lines;
}
