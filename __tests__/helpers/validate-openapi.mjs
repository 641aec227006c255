// Validates the OpenAPI document read from stdin; prints {valid, errors}. A separate process because the
// validator is published as an ES module only, which the CommonJS test runtime cannot load.
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';

const document = JSON.parse(readFileSync(0, 'utf8'));
const result = await new Validator().validate(document);
process.stdout.write(
  JSON.stringify({ valid: result.valid, version: document.openapi, errors: result.errors ?? [] }),
);
