export { type HttpResponse, sendRequest } from './http-transport';
export {
  HotpathClient,
  type ApiError,
  type JobEventsResponse,
  type PolledView,
  type RequestOptions,
  type SubmitOptions,
  LONG_WAIT_S,
  asError,
  asJob,
  describe,
} from './hotpath-client';
export { type ChunkStream, type SseEvent, SseDecoder, SseReader, parseSse } from './sse';
