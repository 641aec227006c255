import { join } from 'node:path';

/** The repository's root, wherever a test file sits under __tests__. */
export const REPO_ROOT = join(__dirname, '..', '..');
