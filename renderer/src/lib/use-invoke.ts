import { useCallback, useEffect, useRef, useState } from 'react';
import type { InvokeChannel, InvokeRequest, InvokeResponse } from '../../../shared/contract';
import type { Result } from '../../../shared/errors';
import { api } from '../transport/api';
import { useConnection } from '../transport/connection';

export interface InvokeState<T> {
  loading: boolean;
  result: Result<T> | null;
  reload: () => void;
}

/**
 * Calls one channel when the request (compared as JSON) changes and again after every reconnect.
 * Pass null to skip the call.
 */
export function useInvoke<C extends InvokeChannel>(
  channel: C,
  request: InvokeRequest<C> | null,
): InvokeState<InvokeResponse<C>> {
  const key = request === null ? null : JSON.stringify(request);
  const generation = useConnection((s) => s.generation);
  const [nonce, setNonce] = useState(0);
  const [state, setState] = useState<{ loading: boolean; result: Result<InvokeResponse<C>> | null }>({
    loading: key !== null,
    result: null,
  });
  const latest = useRef(0);
  useEffect(() => {
    if (key === null) {
      setState({ loading: false, result: null });
      return;
    }
    const call = ++latest.current;
    setState((s) => ({ loading: true, result: s.result }));
    void api()
      .invoke(channel, JSON.parse(key) as InvokeRequest<C>)
      .then((result) => {
        if (call === latest.current) setState({ loading: false, result });
      });
  }, [channel, key, generation, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
