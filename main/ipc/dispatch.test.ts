import { describe, expect, it } from 'vitest';
import { dispatch } from './dispatch';
import type { HandlerMap } from './handler-types';
import { AppError } from '../../shared/errors';
import { INVOKE_CHANNELS } from '../../shared/contract';

const calls: unknown[] = [];
const handlers = Object.fromEntries(
  INVOKE_CHANNELS.map((c) => [c, (req: unknown) => {
    calls.push([c, req]);
    if (c === 'contexts:get') throw new AppError('not_found', 'No VM context with id nope');
    if (c === 'jobs:get') throw new Error('database exploded at /secret/path');
    return { echoed: req };
  }]),
) as unknown as HandlerMap;

describe('dispatch', () => {
  it('validates and passes a well-formed request to the handler', async () => {
    const r = await dispatch(handlers, 'replication:start', [{ contextId: 'ctx-1' }]);
    expect(r).toEqual({ ok: true, value: { echoed: { contextId: 'ctx-1' } } });
  });

  it('treats a missing request as an empty object', async () => {
    expect(await dispatch(handlers, 'contexts:list', [])).toEqual({ ok: true, value: { echoed: {} } });
  });

  it.each([
    ['unknown channel', 'fs:readFile', [{}], /Unknown channel/],
    ['prototype key as channel', 'constructor', [{}], /Unknown channel/],
    ['wrong type', 'contexts:get', [{ id: 5 }], /Invalid request for contexts:get: id:/],
    ['missing field', 'replication:start', [{}], /contextId/],
    ['extra field', 'contexts:list', [{ x: 1 }], /Invalid request for contexts:list/],
    ['too many arguments', 'contexts:list', [{}, {}], /takes one request object/],
    ['non-object request', 'contexts:get', ['ctx-1'], /Invalid request/],
  ])('rejects %s with a validation error and never calls the handler', async (_name, channel, args, message) => {
    const before = calls.length;
    const r = await dispatch(handlers, channel, args);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('validation');
      expect(r.error.message).toMatch(message);
    }
    expect(calls.length).toBe(before);
  });

  it('returns AppErrors as their code and message', async () => {
    expect(await dispatch(handlers, 'contexts:get', [{ id: 'nope' }])).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'No VM context with id nope' },
    });
  });

  it('hides unexpected errors behind an internal error and logs them', async () => {
    const logged: string[] = [];
    const r = await dispatch(handlers, 'jobs:get', [{ id: 'j' }], { error: (m, d) => logged.push(`${m} ${JSON.stringify(d)}`) });
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: 'jobs:get failed unexpectedly; see the application log' } });
    expect(logged[0]).toMatch(/database exploded/);
  });
});
