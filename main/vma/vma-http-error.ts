import { AppError, type ErrorCode } from '../../shared/errors';

/** Contract code for a VMA answer with a non-2xx status (the VMA's error bodies are plain text). */
export function codeForVmaStatus(status: number): ErrorCode {
  if (status === 400) return 'validation';
  if (status === 404) return 'not_found';
  return 'remote_error';
}

/** A non-2xx answer from the VMA. `text` is the plain-text body, trimmed, with secrets redacted. */
export class VmaHttpError extends AppError {
  readonly status: number;
  readonly text: string;
  constructor(status: number, text: string, method: string, path: string) {
    super(codeForVmaStatus(status), `VMA ${method} ${path} answered ${status}${text === '' ? '' : `: ${text}`}`, {
      status,
      text,
      path,
    });
    this.name = 'VmaHttpError';
    this.status = status;
    this.text = text;
  }
}

export const isVmaHttpError = (e: unknown): e is VmaHttpError => e instanceof VmaHttpError;
