import type { Model } from 'mongoose';

const DUPLICATE_KEY = 11000;

interface WriteError {
  index: number;
  code: number;
  errmsg?: string;
  keyPattern?: Record<string, unknown>;
}

/** A duplicate of the document's own id: stored already. A duplicate on another unique index is a failure. */
function isDuplicateId({ code, errmsg, keyPattern }: WriteError): boolean {
  if (code !== DUPLICATE_KEY) return false;
  if (keyPattern) return Object.keys(keyPattern).join() === '_id';
  return / index: _id_ /.test(errmsg ?? '');
}

/**
 * Inserts documents whose ids are chosen so that a repeated step inserts the same ids: a duplicate key
 * means the document is stored already. Resolves with the indexes of the documents that could not be
 * stored; rejects only when the server could not be asked at all.
 */
export async function insertOnce<T extends { _id: string }>(
  model: Model<T>,
  documents: readonly T[],
): Promise<{ failed: number[]; error?: unknown }> {
  if (documents.length === 0) return { failed: [] };
  try {
    // lean: the documents are built by the module, typed; mongoose need not hydrate and validate each one.
    await model.insertMany(documents as T[], { ordered: false, lean: true });
    return { failed: [] };
  } catch (error) {
    const writeErrors = (error as { writeErrors?: WriteError[] }).writeErrors;
    if (!Array.isArray(writeErrors)) throw error;
    const failed = writeErrors.filter((writeError) => !isDuplicateId(writeError)).map(({ index }) => index);
    return failed.length > 0 ? { failed, error } : { failed };
  }
}
