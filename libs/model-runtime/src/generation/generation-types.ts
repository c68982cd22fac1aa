import type { FinishReason, GenerationParams } from '@hotpath/contracts';

/** One sequence to generate: a prompt text (encoded with BOS) or ready token ids, and the job's `params`. */
export interface GenerationRequest {
  prompt: string | readonly number[];
  params?: GenerationParams;
}

/** A generated token as it is produced. */
export interface GeneratedToken {
  index: number;
  token_id: number;
  /** Text completed by this token (may be empty while a multi-byte character is incomplete). */
  text: string;
}

/** The result of one sequence. */
export interface GenerationOutput {
  promptTokens: number[];
  /** Generated ids only (an EOS that ended the sequence is not included). */
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  /** ms from the start of the call to this sequence's first token (null when none). */
  firstTokenMs: number | null;
  /** ms of model execution for the whole batch call. */
  inferenceMs: number;
}

/** Hooks of a generation call. */
export interface GenerateHooks {
  /** Checked between tokens; an aborted call returns what it has with `finishReason: 'cancelled'`. */
  signal?: AbortSignal;
  onToken?: (sequence: number, token: GeneratedToken) => void;
}

/** Generation defaults (from generation_config.json and serving config). */
export interface GenerationDefaults {
  maxTokens: number;
  temperature: number;
  eosIds: readonly number[];
  padId: number;
}
