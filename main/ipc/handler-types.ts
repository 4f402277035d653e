import type { InvokeChannel, InvokeRequest, InvokeResponse } from '../../shared/contract';

export type Handler<C extends InvokeChannel> = (request: InvokeRequest<C>) => Promise<InvokeResponse<C>> | InvokeResponse<C>;

/** One handler per channel; the compiler refuses a map that misses one. */
export type HandlerMap = { [C in InvokeChannel]: Handler<C> };
