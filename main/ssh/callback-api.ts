/**
 * The change-ID callback API the VMA's copier calls (through the SSH remote forward, VMA
 * 127.0.0.1:8082). Shapes follow reference/vma-api.md: JSON success bodies, plain-text errors.
 * The handler is a pure function of the request so it is testable without sockets; the transport
 * lives in callback-server.ts.
 */

/** What the store made of one change-ID report. */
export type ChangeIdOutcome = 'recorded' | 'ignored_empty' | 'unknown_job' | 'unknown_disk' | 'previous_mismatch';

/**
 * Per-(job, disk) change IDs, implemented by the change-ID channel (main/engine/change-id-channel.ts).
 * Every call carries the token that prefixed the request path (`oma_url` is `http://127.0.0.1:<port>/<token>`).
 *
 * Contract:
 * - `lookup(token, vmPath, diskKey)`: `null` unless the token belongs to a running job of this VMA for
 *   that VM and disk (→ 404); otherwise `{changeId}`: the base this job uses for exactly that disk, or
 *   `null` when the disk is copied in full. Never another disk's or another job's id.
 * - `record(token, jobId, diskKey, changeId, previousChangeId?)`: `changeId` is passed through exactly
 *   as the VMA sent it, INCLUDING the empty string, which must not overwrite a good id
 *   ('ignored_empty', still a 200). 'unknown_job' / 'unknown_disk' become 404, 'previous_mismatch' 409.
 */
export interface ChangeIdStore {
  lookup(token: string, vmPath: string, diskKey: string): { changeId: string | null } | null;
  record(token: string, jobId: string, diskKey: string, changeId: string, previousChangeId?: string): ChangeIdOutcome;
  /** A change-ID report refused as malformed (400) before it reached `record`: logged, never stored. */
  malformed?(token: string, jobId: string, reason: string): void;
}

export interface CallbackRequest {
  method: string;
  /** Request target as received: path plus optional query string. */
  url: string;
  body: string;
}

export interface CallbackResponse {
  status: number;
  contentType: 'application/json' | 'text/plain; charset=utf-8';
  body: string;
}

/** Largest request body the server accepts (a change-ID record is a few hundred bytes). */
export const MAX_CALLBACK_BODY_BYTES = 64 * 1024;

const DISK_KEY_PATTERN = /^disk-\d+$/;
/** Every path starts with the job's token (at least 128 bits, base64url); anything else is unknown. */
const CHANGE_ID_GET_PATH = /^\/([A-Za-z0-9_-]{22,128})\/api\/v1\/replications\/changeid$/;
const CHANGE_ID_POST_PATH = /^\/([A-Za-z0-9_-]{22,128})\/api\/v1\/replications\/([^/]+)\/changeid$/;
/** VMware change ids: hex pairs separated by spaces (one hyphen in the middle), a slash and a sequence number (`52 1a d2 ... db/401`). */
export const CHANGE_ID_PATTERN = /^[0-9a-fA-F]{2}([ -][0-9a-fA-F]{2}){1,63}\/\d{1,19}$/;
const MAX_CHANGE_ID_LENGTH = 256;

const json = (status: number, value: unknown): CallbackResponse => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(value),
});

// Error bodies are one sentence and a newline, like the real appliance software expects.
const text = (status: number, sentence: string): CallbackResponse => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body: `${sentence}\n`,
});

function validateDiskKey(diskId: string | null | undefined): string | null {
  if (diskId === undefined || diskId === null || diskId === '') return 'disk_id is required';
  if (!DISK_KEY_PATTERN.test(diskId)) return `disk_id must be a VMware disk key like disk-2000, got ${JSON.stringify(diskId)}`;
  return null;
}

export function handleCallbackRequest(
  store: ChangeIdStore,
  request: CallbackRequest,
  onStoreError?: (error: unknown) => void,
): CallbackResponse {
  try {
    return route(store, request);
  } catch (error) {
    onStoreError?.(error);
    // The store's failure details stay in the console; the copier only needs to know it failed.
    return text(500, 'The console could not process the change ID request.');
  }
}

function route(store: ChangeIdStore, request: CallbackRequest): CallbackResponse {
  let parsed: URL;
  try {
    parsed = new URL(request.url, 'http://callback.invalid');
  } catch {
    return text(400, 'Malformed request URL.');
  }
  const path = parsed.pathname;

  const getMatch = CHANGE_ID_GET_PATH.exec(path);
  if (getMatch !== null) {
    if (request.method !== 'GET') return text(405, `Method ${request.method} is not allowed on this path.`);
    return lookupChangeId(store, getMatch[1] as string, parsed.searchParams);
  }
  const postMatch = CHANGE_ID_POST_PATH.exec(path);
  if (postMatch !== null) {
    if (request.method !== 'POST') return text(405, `Method ${request.method} is not allowed on this path.`);
    let jobId: string;
    try {
      jobId = decodeURIComponent(postMatch[2] as string);
    } catch {
      return text(400, 'job_id in the path is not valid percent-encoding.');
    }
    return recordChangeId(store, postMatch[1] as string, jobId, request.body);
  }
  // The path (with a token) is never echoed back.
  return text(404, `No such endpoint.`);
}

function lookupChangeId(store: ChangeIdStore, token: string, query: URLSearchParams): CallbackResponse {
  const vmPath = query.get('vm_path');
  if (vmPath === null || vmPath === '') return text(400, 'vm_path query parameter is required.');
  const diskId = query.get('disk_id');
  const diskProblem = validateDiskKey(diskId);
  if (diskProblem !== null) return text(400, `${diskProblem}.`);
  const diskKey = diskId as string;

  const found = store.lookup(token, vmPath, diskKey);
  if (found === null) return text(404, `Unknown disk ${diskKey} of VM ${vmPath}.`);
  const changeId = found.changeId ?? '';
  return json(200, {
    vm_path: vmPath,
    disk_id: diskKey,
    change_id: changeId,
    message:
      changeId === ''
        ? `No previous change ID for ${diskKey}; a full copy of this disk is required`
        : `Previous change ID found for ${diskKey}`,
  });
}

function recordChangeId(store: ChangeIdStore, token: string, jobId: string, rawBody: string): CallbackResponse {
  const response = checkAndRecord(store, token, jobId, rawBody);
  // A malformed report is as suspicious as a forged one: the operator sees it in the log.
  if (response.status === 400) store.malformed?.(token, jobId, response.body.trim());
  return response;
}

function checkAndRecord(store: ChangeIdStore, token: string, jobId: string, rawBody: string): CallbackResponse {
  if (jobId.trim() === '') return text(400, 'job_id in the path is empty.');
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return text(400, 'Request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return text(400, 'Request body must be a JSON object.');
  const fields = body as Record<string, unknown>;

  if (!('change_id' in fields)) return text(400, 'change_id is required (it may be an empty string).');
  if (typeof fields.change_id !== 'string') return text(400, 'change_id must be a string.');
  if (!('disk_id' in fields)) return text(400, 'disk_id is required.');
  if (typeof fields.disk_id !== 'string') return text(400, 'disk_id must be a string.');
  const diskProblem = validateDiskKey(fields.disk_id);
  if (diskProblem !== null) return text(400, `${diskProblem}.`);
  const previous = fields.previous_change_id;
  if (previous !== undefined && previous !== null && typeof previous !== 'string') {
    return text(400, 'previous_change_id must be a string when present.');
  }

  const changeId = fields.change_id;
  const diskKey = fields.disk_id;
  // An empty id is legal (sent after some conversions); anything else must look like a VMware change id.
  if (changeId !== '' && (changeId.length > MAX_CHANGE_ID_LENGTH || !CHANGE_ID_PATTERN.test(changeId))) {
    return text(400, 'change_id is not a VMware change id.');
  }
  if (typeof previous === 'string' && previous.length > MAX_CHANGE_ID_LENGTH) return text(400, 'previous_change_id is too long.');
  const outcome =
    typeof previous === 'string'
      ? store.record(token, jobId, diskKey, changeId, previous)
      : store.record(token, jobId, diskKey, changeId);

  switch (outcome) {
    case 'recorded':
      return json(200, { job_id: jobId, disk_id: diskKey, change_id: changeId, message: 'Change ID recorded' });
    case 'ignored_empty':
      return json(200, {
        job_id: jobId,
        disk_id: diskKey,
        change_id: changeId,
        message: 'Empty change ID ignored; the previous change ID is kept',
      });
    case 'unknown_job':
      return text(404, `Unknown job ${jobId}.`);
    case 'unknown_disk':
      return text(404, `Unknown disk ${diskKey} for job ${jobId}.`);
    case 'previous_mismatch':
      return text(409, `previous_change_id of ${diskKey} is not the base this job used.`);
  }
}
