export { freePort, portAvailable } from './free-port';
export { retryOnPortClash, type PortClashRetry } from './port-clash';
