// Part of `npm run build`: writes the route's OpenAPI 3.1 document to dist/openapi.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usersSyncOpenApiDocument } from '../routes/openapi';

const target = join(__dirname, '..', 'dist', 'openapi.json');
mkdirSync(join(__dirname, '..', 'dist'), { recursive: true });
writeFileSync(target, `${JSON.stringify(usersSyncOpenApiDocument('/api/v1'), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
