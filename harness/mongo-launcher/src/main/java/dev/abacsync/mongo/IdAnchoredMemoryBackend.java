package dev.abacsync.mongo;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.ArrayFilters;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import java.util.List;
import java.util.regex.Pattern;

/**
 * mongo-java-server's in-memory backend, with three changes, each making it do what MongoDB does:
 *
 * <ul>
 *   <li>A sparse unique index looks into arrays of subdocuments ({@link ArrayAwareSparseIndex}).
 *   <li>A filter that names one {@code _id} and other fields ({@code {_id: 'u1', abacAttributes: [...]}},
 *       the shape of a conditional write) is answered from the {@code _id} index, the other fields checked
 *       on that one document. The stock backend uses an index only when a filter names exactly that
 *       index's fields, so such a filter scanned every document of the collection.
 *   <li>A findAndModify answers with the document as its own update left it. The stock backend answered
 *       with the stored document itself, which concurrent updates went on changing before the answer was
 *       encoded: of ten concurrent increments, two could both read 10. Updates of a collection now take
 *       turns, and each answer is a copy taken in its turn.
 * </ul>
 *
 * Results are MongoDB's; only the work differs.
 */
final class IdAnchoredMemoryBackend extends MemoryBackend {

  @Override
  public MemoryDatabase openOrCreateDatabase(String databaseName) {
    return new IdAnchoredDatabase(databaseName, getCursorRegistry());
  }

  private static final class IdAnchoredDatabase extends MemoryDatabase {
    IdAnchoredDatabase(String databaseName, CursorRegistry cursorRegistry) {
      super(databaseName, cursorRegistry);
    }

    @Override
    protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
      return new IdAnchoredCollection(this, collectionName, options, cursorRegistry);
    }

    @Override
    protected Index<Integer> openOrCreateUniqueIndex(
        String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
      return sparse
          ? new ArrayAwareSparseIndex(indexName, keys)
          : super.openOrCreateUniqueIndex(collectionName, indexName, keys, false);
    }
  }

  private static final class IdAnchoredCollection extends MemoryCollection {
    IdAnchoredCollection(
        MongoDatabase database, String name, CollectionOptions options, CursorRegistry cursorRegistry) {
      super(database, name, options, cursorRegistry);
    }

    @Override
    protected QueryResult queryDocuments(
        Document query,
        Document orderBy,
        int numberToSkip,
        int limit,
        int batchSize,
        Document fieldSelector) {
      Object id = query.get("_id");
      boolean anchored =
          query.size() > 1 && id != null && !(id instanceof Document) && !(id instanceof Pattern);
      if (anchored) {
        Document byId = new Document("_id", id);
        for (Index<Integer> index : getIndexes()) {
          if (index.canHandle(byId)) {
            // The whole filter is still matched against the document the index finds.
            return matchDocuments(
                query, index.getPositions(byId), orderBy, numberToSkip, limit, batchSize, fieldSelector);
          }
        }
      }
      return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }

    @Override
    public synchronized Document findAndModify(Document query) {
      Document answer = super.findAndModify(query);
      return answer == null ? null : answer.cloneDeeply();
    }

    @Override
    public synchronized Document updateDocuments(
        Document selector,
        Document update,
        ArrayFilters arrayFilters,
        boolean isMulti,
        boolean isUpsert,
        Oplog oplog) {
      return super.updateDocuments(selector, update, arrayFilters, isMulti, isUpsert, oplog);
    }
  }
}
