// Bundles the admin page (admin/) into dist/admin: one script and one stylesheet the router serves, so a
// host needs no extra step and no CDN. Run by npm run build, and before npm test and npm start.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export const ADMIN_DIST = join(__dirname, '..', 'dist', 'admin');

async function main() {
  mkdirSync(ADMIN_DIST, { recursive: true });
  await build({
    entryPoints: [join(__dirname, '..', 'admin', 'app.ts')],
    outfile: join(ADMIN_DIST, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    legalComments: 'none',
  });
  copyFileSync(join(__dirname, '..', 'admin', 'app.css'), join(ADMIN_DIST, 'app.css'));
  const size = (name: string) => statSync(join(ADMIN_DIST, name)).size;
  process.stdout.write(
    `admin page built: app.js ${size('app.js')} bytes, app.css ${size('app.css')} bytes\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`admin page build failed: ${String(error)}\n`);
  process.exit(1);
});
