import type { BatchReport, SchedulerPolicy } from '@hotpath/batching';
import type { ErrorCode, Priority } from '@hotpath/contracts';
import type { PrefixCacheSettings } from '../batching/prefix-cache';
import type { GeneratedToken, GenerationOutput, GenerationRequest } from '../generation/generation-types';
import type { EngineKind, EngineMode } from '../generation/local-model';
import type { ModelConfigJson } from '../model/model-config';
import type { OnnxSelection } from '../model/model-layout';
import type { ExecutionSettings } from '../session/ort-session';

/** `workerData` of a replica thread. */
export interface ReplicaInit {
  dir: string;
  /** Which graph of the folder to serve. */
  onnx?: OnnxSelection;
  execution: ExecutionSettings;
  defaultMaxTokens?: number;
  warmup: boolean;
  /** Which graph a decoder runs (see `EngineMode`). */
  engine: EngineMode;
  /** Continuous-batching policy of the replica's generation scheduler. */
  scheduler: SchedulerPolicy;
  /** Prefix KV cache of the replica's generations; null = off. */
  prefixCache: PrefixCacheSettings | null;
  /** Post a `report` message per prefill forward and decode run (only when someone traces them). */
  reportBatches: boolean;
  /** Post a `stats` message this often (ms) while the numbers change; 0 = never. */
  statsIntervalMs: number;
}

/**
 * What a replica thread reports about the memory it holds: its KV arena (decoders on the arena
 * engine; the WASM engine's KV slots) and its prefix KV cache (when on). Read in the thread, posted to the main thread, which
 * cannot see them.
 */
export interface ReplicaStats {
  /** null: no arena (an encoder, or the folder's own graph). The WASM engine's slots hold the whole context. */
  arena: {
    /** Sequence slots in use / in all. */
    slotsUsed: number;
    slots: number;
    /** Positions per slot in the current layout. */
    capacity: number;
    /** Bytes of KV cache the current layout spans (keys and values, every layer and slot). */
    bytes: number;
    /** Capacity changes since the replica started. */
    relayouts: number;
  } | null;
  /** null: prefix cache off (or an encoder). */
  prefixCache: {
    /** Cached blocks and their bytes; `maxBytes` the bound. */
    blocks: number;
    bytes: number;
    maxBytes: number;
    /** Blocks evicted since the replica started. */
    evictions: number;
  } | null;
}

/** What a replica reports once its session is loaded. */
export interface ReplicaModelInfo {
  dir: string;
  kind: 'decoder' | 'encoder';
  digest: string;
  config: ModelConfigJson;
  eosIds: number[];
  providers: string[];
  /** The engine generation runs on: WASM kernels, the arena engine's graph, the folder's own (`plain`), or none (encoder). */
  engine: EngineKind | null;
  /** The replica thread's kernel id, for CPU placement; null off Linux. */
  tid: number | null;
}

/** One sequence's result from a continuously batched replica, with how it was served. */
export interface ScheduledGenerationOutput extends GenerationOutput {
  /** ms from submission to the start of its prefill (time queued in the replica). */
  batchWaitMs: number;
  /** Mean running-batch size over its decode steps (its prefill group size when it had none). */
  meanBatchSize: number;
  /** Leading prompt tokens whose KV came from the replica's prefix cache (0 = none, or cache off). */
  prefixHitTokens: number;
}

/** Main thread → replica. */
export type ToReplica =
  | {
      type: 'submit';
      id: number;
      request: GenerationRequest;
      priority: Priority | undefined;
      deadlineAt: number | null;
    }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'abort'; id: number };

/**
 * Replica → main thread. Error codes are typed, but the main thread still checks them: a message is
 * a structured clone that no compiler sees across the thread boundary.
 */
export type FromReplica =
  | { type: 'ready'; info: ReplicaModelInfo }
  | { type: 'load-error'; code: ErrorCode; message: string }
  | { type: 'log'; message: string }
  /** What the replica's scheduler ran; its members are tagged with their submission ids. */
  | { type: 'report'; report: BatchReport<number> }
  | { type: 'stats'; stats: ReplicaStats }
  /** The tokens of one scheduler step (every sequence's), in order: one message, not one per token. */
  | { type: 'tokens'; tokens: { id: number; token: GeneratedToken }[] }
  | { type: 'finished'; id: number; output: ScheduledGenerationOutput }
  | {
      type: 'embedded';
      id: number;
      embeddings: number[][];
      /** Tokens each text was embedded from (at most the model's context). */
      tokenCounts: number[];
      /** Indexes of the texts cut to the model's context. */
      truncated: number[];
      inferenceMs: number;
    }
  | { type: 'error'; id: number; code: ErrorCode; message: string };
