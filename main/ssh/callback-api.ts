/**
 * The change-ID callback API the VMA's copier calls (through the SSH remote forward, VMA
 * 127.0.0.1:8082). Shapes follow reference/vma-api.md: JSON success bodies, plain-text errors.
 * The handler is a pure function of the request so it is testable without sockets; the transport
 * lives in callback-server.ts.
 */

/**
 * Storage for per-(VM, disk) change IDs, implemented by the migration engine.
 *
 * Contract:
 * - `lookup(vmPath, diskKey)`: `null` when the console does not know that disk of that VM
 *   (→ 404); otherwise `{changeId}` where `changeId` is the last good change ID of exactly that
 *   disk, or `null` when there is none (the copier then does a full copy of that disk). Never
 *   return another disk's change ID.
 * - `record(jobId, diskKey, changeId, previousChangeId?)`: `changeId` is passed through exactly as
 *   the VMA sent it, INCLUDING the empty string. The store must not let an empty change ID
 *   overwrite a good one: it returns 'ignored_empty' in that case (the VMA still gets a 200).
 *   'unknown_job' / 'unknown_disk' become 404 responses. `previousChangeId` is undefined when the
 *   VMA did not send one.
 */
export interface ChangeIdStore {
  lookup(vmPath: string, diskKey: string): { changeId: string | null } | null;
  record(
    jobId: string,
    diskKey: string,
    changeId: string,
    previousChangeId?: string,
  ): 'recorded' | 'ignored_empty' | 'unknown_job' | 'unknown_disk';
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
const CHANGE_ID_GET_PATH = '/api/v1/replications/changeid';
const CHANGE_ID_POST_PATH = /^\/api\/v1\/replications\/([^/]+)\/changeid$/;

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

  if (path === CHANGE_ID_GET_PATH) {
    if (request.method !== 'GET') return text(405, `Method ${request.method} is not allowed on ${path}.`);
    return lookupChangeId(store, parsed.searchParams);
  }
  const postMatch = CHANGE_ID_POST_PATH.exec(path);
  if (postMatch !== null) {
    if (request.method !== 'POST') return text(405, `Method ${request.method} is not allowed on ${path}.`);
    let jobId: string;
    try {
      jobId = decodeURIComponent(postMatch[1] as string);
    } catch {
      return text(400, 'job_id in the path is not valid percent-encoding.');
    }
    return recordChangeId(store, jobId, request.body);
  }
  return text(404, `No such endpoint: ${request.method} ${path}.`);
}

function lookupChangeId(store: ChangeIdStore, query: URLSearchParams): CallbackResponse {
  const vmPath = query.get('vm_path');
  if (vmPath === null || vmPath === '') return text(400, 'vm_path query parameter is required.');
  const diskId = query.get('disk_id');
  const diskProblem = validateDiskKey(diskId);
  if (diskProblem !== null) return text(400, `${diskProblem}.`);
  const diskKey = diskId as string;

  const found = store.lookup(vmPath, diskKey);
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

function recordChangeId(store: ChangeIdStore, jobId: string, rawBody: string): CallbackResponse {
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
  const outcome =
    typeof previous === 'string'
      ? store.record(jobId, diskKey, changeId, previous)
      : store.record(jobId, diskKey, changeId);

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
  }
}
