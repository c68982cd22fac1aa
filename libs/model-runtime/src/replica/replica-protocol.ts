import type { GeneratedToken, GenerationOutput, GenerationRequest } from '../generation/generator';
import type { ModelConfigJson } from '../model/model-config';
import type { ExecutionSettings } from '../session/ort-session';

/** `workerData` of a replica thread. */
export interface ReplicaInit {
  dir: string;
  execution: ExecutionSettings;
  defaultMaxTokens?: number;
  warmup: boolean;
}

/** What a replica reports once its session is loaded. */
export interface ReplicaModelInfo {
  dir: string;
  kind: 'decoder' | 'encoder';
  digest: string;
  config: ModelConfigJson;
  eosIds: number[];
  providers: string[];
}

/** Main thread → replica. */
export type ToReplica =
  | { type: 'generate'; id: number; requests: GenerationRequest[] }
  | { type: 'embed'; id: number; texts: string[] }
  | { type: 'abort'; id: number };

/** Replica → main thread. */
export type FromReplica =
  | { type: 'ready'; info: ReplicaModelInfo }
  | { type: 'load-error'; code: string; message: string }
  | { type: 'log'; message: string }
  | { type: 'token'; id: number; seq: number; token: GeneratedToken }
  | { type: 'generated'; id: number; outputs: GenerationOutput[] }
  | { type: 'embedded'; id: number; embeddings: number[][]; promptTokens: number; inferenceMs: number }
  | { type: 'error'; id: number; code: string; message: string };
