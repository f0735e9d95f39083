import type { WorkerMessage, WorkerRequest } from '../lib/protocol';

type Handler<T extends WorkerMessage['type']> = (m: Extract<WorkerMessage, { type: T }>) => void;

/** The page's side of the model worker: send requests, route each reply type to its handlers. */
export interface WorkerClient {
  send(req: WorkerRequest, transfer?: Transferable[]): void;
  on<T extends WorkerMessage['type']>(type: T, handler: Handler<T>): void;
  /** The worker failed to start or threw outside any request. */
  onError(handler: (message: string) => void): void;
}

export function createWorkerClient(): WorkerClient {
  const worker = new Worker(new URL('../worker/modelWorker.ts', import.meta.url), {
    type: 'module',
  });
  const handlers = new Map<string, ((m: WorkerMessage) => void)[]>();
  const errorHandlers: ((message: string) => void)[] = [];
  worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) => {
    for (const h of handlers.get(e.data.type) ?? []) h(e.data);
  });
  worker.addEventListener('error', (e) => {
    for (const h of errorHandlers) h(e.message || 'could not start it');
  });
  return {
    send: (req, transfer = []) => worker.postMessage(req, transfer),
    on(type, handler) {
      const list = handlers.get(type) ?? [];
      list.push(handler as (m: WorkerMessage) => void);
      handlers.set(type, list);
    },
    onError: (handler) => void errorHandlers.push(handler),
  };
}
