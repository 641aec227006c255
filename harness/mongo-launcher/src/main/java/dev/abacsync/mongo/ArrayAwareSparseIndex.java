package dev.abacsync.mongo;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.memory.index.MemoryUniqueIndex;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.KeyConstraintError;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * A sparse unique index that, as MongoDB's, indexes a document whose key runs through an array of
 * subdocuments ({@code emails.address} of {@code emails: [{address: ...}]}). The stock backend decides
 * which documents a sparse index leaves out without looking into arrays, so it left every such document
 * out while still answering queries on the key from the index: {@code {'emails.address': 'a@x.org'}}
 * found nothing. Here the documents left out are those with no value for any key, arrays included, and
 * every other document goes to an index that holds each of its values.
 */
final class ArrayAwareSparseIndex extends Index<Integer> {

  private final MemoryUniqueIndex withValues;

  ArrayAwareSparseIndex(String name, List<IndexKey> keys) {
    super(name, keys, true);
    withValues = new MemoryUniqueIndex(name, keys, false);
  }

  private boolean leftOut(Document document) {
    return keys().stream()
        .noneMatch(key -> hasValue(Utils.getSubdocumentValueCollectionAware(document, key)));
  }

  private static boolean hasValue(Object value) {
    if (value instanceof Collection<?> values) {
      return values.stream().anyMatch(ArrayAwareSparseIndex::hasValue);
    }
    return !(value instanceof Missing);
  }

  @Override
  public Integer getPosition(Document document) {
    return leftOut(document) ? null : withValues.getPosition(document);
  }

  @Override
  public void checkAdd(Document document, MongoCollection<Integer> collection) {
    if (!leftOut(document)) withValues.checkAdd(document, collection);
  }

  @Override
  public void add(Document document, Integer position, MongoCollection<Integer> collection) {
    if (!leftOut(document)) withValues.add(document, position, collection);
  }

  @Override
  public Integer remove(Document document) {
    return leftOut(document) ? null : withValues.remove(document);
  }

  @Override
  public boolean canHandle(Document query) {
    // A sparse index cannot answer for documents it left out: a query for null is the collection's.
    return !query.values().stream().allMatch(Objects::isNull) && withValues.canHandle(query);
  }

  @Override
  public Iterable<Integer> getPositions(Document query) {
    return withValues.getPositions(query);
  }

  @Override
  public long getCount() {
    return withValues.getCount();
  }

  @Override
  public long getDataSize() {
    return withValues.getDataSize();
  }

  @Override
  public void checkUpdate(
      Document oldDocument, Document newDocument, MongoCollection<Integer> collection) {
    if (!leftOut(newDocument)) withValues.checkUpdate(oldDocument, newDocument, collection);
  }

  @Override
  public void updateInPlace(
      Document oldDocument,
      Document newDocument,
      Integer position,
      MongoCollection<Integer> collection)
      throws KeyConstraintError {
    if (nullAwareEqualsKeys(oldDocument, newDocument)) return;
    remove(oldDocument);
    add(newDocument, position, collection);
  }

  @Override
  public void drop() {
    withValues.drop();
  }

  @Override
  public boolean isUnique() {
    return true;
  }
}
