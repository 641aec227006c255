import { z } from 'zod';

export const MAX_IDENTIFIERS_PER_LIST = 100;
/** No identifier kind (username, id, email, hex ldapId) is anywhere near this; it bounds work per item. */
export const MAX_IDENTIFIER_LENGTH = 1024;
export const IDENTIFIER_LISTS = ['usernames', 'ids', 'emails', 'ldapIds'] as const;
export type IdentifierList = (typeof IDENTIFIER_LISTS)[number];

// No username, id, email or hex ldapId holds a control character or half of a surrogate pair; refusing them
// here keeps them out of database queries (a NUL cannot even be encoded in a BSON regex).
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /\p{Cs}/u;

const identifier = z
  .string()
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_IDENTIFIER_LENGTH, `must be at most ${MAX_IDENTIFIER_LENGTH} characters`)
  .refine((value) => !CONTROL_CHARACTER.test(value), 'must not contain control characters')
  .refine((value) => !LONE_SURROGATE.test(value), 'must be valid Unicode text');

const identifierList = z
  .array(identifier)
  .min(1, 'must list at least one item')
  .max(MAX_IDENTIFIERS_PER_LIST, `must list at most ${MAX_IDENTIFIERS_PER_LIST} items`)
  .superRefine((items, context) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      if (seen.has(item)) context.addIssue({ code: 'custom', message: 'duplicate item', path: [index] });
      seen.add(item);
    });
  });

/** The body of POST /abac/users/sync: strict, so unknown keys and operator objects are refused. */
export const syncRequestBodySchema = z
  .strictObject({
    usernames: identifierList.optional(),
    ids: identifierList.optional(),
    emails: identifierList.optional(),
    ldapIds: identifierList.optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((body) => IDENTIFIER_LISTS.some((list) => body[list] !== undefined), {
    message: `at least one of ${IDENTIFIER_LISTS.join(', ')} is required`,
  });

export type SyncRequestBody = z.infer<typeof syncRequestBodySchema>;
export type Identifiers = Partial<Record<IdentifierList, string[]>>;
