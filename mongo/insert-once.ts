import type { Model } from 'mongoose';
import { isDuplicateId, writeErrorsOf } from './write-errors';

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
    const writeErrors = writeErrorsOf(error);
    if (!writeErrors) throw error;
    const failed = writeErrors.filter((writeError) => !isDuplicateId(writeError)).map(({ index }) => index);
    return failed.length > 0 ? { failed, error } : { failed };
  }
}
