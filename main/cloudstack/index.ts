export { createCloudStackClient } from './client';
export type { AsyncCallOptions, CloudStackClient, CloudStackClientOptions, Params } from './client';
export { CloudStackError, errorCodeForCloudStack } from './errors';
export type { CloudStackErrorInfo } from './errors';
export { testConnection } from './connection-test';
export { fetchOptions } from './options';
export * from './types';
