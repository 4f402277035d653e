import { AppError, type ErrorCode } from '../../shared/errors';

export interface CloudStackErrorInfo {
  command: string;
  httpStatus?: number;
  errorcode?: number;
  cserrorcode?: number;
  errortext?: string;
  jobId?: string;
}

/** CloudStack's own error codes mapped onto the contract's: 401/432 are auth, 431 bad parameters. */
export function errorCodeForCloudStack(status: number | undefined): ErrorCode {
  if (status === 401 || status === 432) return 'auth';
  if (status === 431) return 'validation';
  return 'remote_error';
}

/** An error CloudStack reported, either as an HTTP error response or as a failed async job. */
export class CloudStackError extends AppError {
  readonly command: string;
  readonly httpStatus: number | undefined;
  readonly errorcode: number | undefined;
  readonly cserrorcode: number | undefined;
  readonly errortext: string | undefined;
  readonly jobId: string | undefined;

  constructor(message: string, info: CloudStackErrorInfo) {
    const details: Record<string, unknown> = { command: info.command };
    for (const key of ['httpStatus', 'errorcode', 'cserrorcode', 'errortext', 'jobId'] as const) {
      if (info[key] !== undefined) details[key] = info[key];
    }
    super(errorCodeForCloudStack(info.errorcode ?? info.httpStatus), message, details);
    this.name = 'CloudStackError';
    this.command = info.command;
    this.httpStatus = info.httpStatus;
    this.errorcode = info.errorcode;
    this.cserrorcode = info.cserrorcode;
    this.errortext = info.errortext;
    this.jobId = info.jobId;
  }
}
