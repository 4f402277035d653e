// A minimal stand-in for the console's change-ID callback API (vma-api.md, last section), used
// to exercise the simulator's copier in tests: change ids are kept per (VM path, disk id).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChangeIdCallbackServer {
  readonly url: string;
  /** Jobs the server accepts reports for, with their VM path. */
  registerJob(jobId: string, vmPath: string): void;
  changeId(vmPath: string, diskId: string): string;
  setChangeId(vmPath: string, diskId: string, changeId: string): void;
  readonly lookups: { vmPath: string; diskId: string; answered: string }[];
  /** `previousChangeId` is null when the POST did not carry the field (the public copier's default). */
  readonly reports: { jobId: string; diskId: string; changeId: string; previousChangeId: string | null }[];
  /** Every request target as received (path and query), in order. */
  readonly paths: string[];
  close(): Promise<void>;
}

export async function startChangeIdCallbackServer(): Promise<ChangeIdCallbackServer> {
  const ids = new Map<string, string>();
  const jobs = new Map<string, string>();
  const lookups: ChangeIdCallbackServer['lookups'] = [];
  const reports: ChangeIdCallbackServer['reports'] = [];
  const paths: string[] = [];
  const key = (vmPath: string, diskId: string): string => `${vmPath}\u0000${diskId}`;
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/api/v1/replications/changeid') {
        const vmPath = url.searchParams.get('vm_path') ?? '';
        const diskId = url.searchParams.get('disk_id') ?? '';
        if (vmPath === '' || diskId === '') return json(res, 400, { error: 'vm_path and disk_id are required' });
        const answered = ids.get(key(vmPath, diskId)) ?? '';
        lookups.push({ vmPath, diskId, answered });
        return json(res, 200, { vm_path: vmPath, disk_id: diskId, change_id: answered, message: answered === '' ? 'no change id: full copy' : 'ok' });
      }
      const m = /^\/api\/v1\/replications\/([^/]+)\/changeid$/.exec(url.pathname);
      if (req.method === 'POST' && m !== null) {
        const jobId = decodeURIComponent(m[1]!);
        const vmPath = jobs.get(jobId);
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          return json(res, 400, { error: 'invalid JSON' });
        }
        if (vmPath === undefined) return json(res, 404, { error: `unknown job ${jobId}` });
        const diskId = String(body['disk_id'] ?? '');
        const changeId = String(body['change_id'] ?? '');
        reports.push({ jobId, diskId, changeId, previousChangeId: typeof body['previous_change_id'] === 'string' ? body['previous_change_id'] : null });
        // An empty id must not overwrite a good one.
        if (changeId !== '') ids.set(key(vmPath, diskId), changeId);
        return json(res, 200, { job_id: jobId, disk_id: diskId, change_id: changeId, message: 'stored' });
      }
      json(res, 404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    registerJob: (jobId, vmPath) => void jobs.set(jobId, vmPath),
    changeId: (vmPath, diskId) => ids.get(key(vmPath, diskId)) ?? '',
    setChangeId: (vmPath, diskId, changeId) => void ids.set(key(vmPath, diskId), changeId),
    lookups,
    reports,
    paths,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
