import type { Connection, Model, Schema } from 'mongoose';

/**
 * Binds a schema to the host's connection under a name of our own, so the host's models are never touched
 * and a second router on the same connection reuses the first one's models.
 */
export function bindModel<T>(
  connection: Connection,
  name: string,
  schema: Schema<T>,
  collection: string,
): Model<T> {
  const modelName = `abacSync.${name}`;
  const existing = connection.models[modelName];
  if (existing) return existing as unknown as Model<T>;
  return connection.model<T>(modelName, schema, collection);
}

/** Options every model shares: documents belong to the host, so no version key and no field stripping. */
export const hostDocumentOptions = {
  versionKey: false,
  strict: false,
  _id: false,
  // Indexes are created once, by ensureIndexes at start-up, never in the background behind other writes.
  autoIndex: false,
  autoCreate: false,
} as const;
