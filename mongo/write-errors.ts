/** MongoDB's code for a write refused by a unique index. */
export const DUPLICATE_KEY = 11000;

/** One refused operation of a bulk write or insertMany, as the driver reports it. */
export interface WriteError {
  index: number;
  code: number;
  errmsg?: string;
  keyPattern?: Record<string, unknown>;
}

/** The refused operations of a failed bulk write; undefined when the error is not a per-operation one. */
export function writeErrorsOf(error: unknown): WriteError[] | undefined {
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  return Array.isArray(writeErrors) ? (writeErrors as WriteError[]) : undefined;
}

/** A duplicate of the document's own id. A duplicate on another unique index is a different failure. */
export function isDuplicateId({ code, errmsg, keyPattern }: WriteError): boolean {
  if (code !== DUPLICATE_KEY) return false;
  if (keyPattern) return Object.keys(keyPattern).join() === '_id';
  return / index: _id_ /.test(errmsg ?? '');
}
