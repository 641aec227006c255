import { hostname } from 'node:os';

/** host:pid: which host process did something, in job documents and the queue's own records. */
export const PROCESS_NAME = `${hostname()}:${process.pid}`;
