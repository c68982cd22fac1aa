export {
  type ExitInfo,
  type LogSink,
  type ProcessSpec,
  type StopResult,
  ManagedProcess,
  describeExit,
} from './managed-process';
export { LineSplitter, OutputBuffer, TailBuffer } from './line-buffer';
export { type ReadyWait, NotReadyError, waitForReady } from './readiness';
export {
  type RestartLimits,
  type RestartDecision,
  DEFAULT_RESTART_LIMITS,
  RestartPolicy,
} from './restart-policy';
export {
  type ServiceSpec,
  type SupervisorHooks,
  ServiceStartError,
  ServiceSupervisor,
} from './service-supervisor';
export { appEntry } from './app-entry';
export { processAlive } from './process-alive';
