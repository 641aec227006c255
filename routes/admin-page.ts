import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, Response, Router } from 'express';

export const ADMIN_PAGE_PATH = '/abac/admin';

/** Where the bundled page lives: dist/admin, beside the compiled module or at the repository's root. */
function bundleDir(): string {
  const candidates = [join(__dirname, '..', 'admin'), join(__dirname, '..', 'dist', 'admin')];
  return candidates.find((dir) => safeRead(join(dir, 'app.js')) !== undefined) ?? candidates[1]!;
}

function safeRead(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** No inline script or style, nothing from elsewhere: the page talks to its own origin only. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const page = (signInFromLink: boolean) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
${signInFromLink ? '<meta name="abac-sign-in-from-link" content="on">\n' : ''}
<title>ABAC attributes from LDAP</title>
<link rel="stylesheet" href="admin/app.css">
</head>
<body>
<div id="app"><noscript>This page needs JavaScript.</noscript></div>
<script src="admin/app.js"></script>
</body>
</html>
`;

/**
 * The admin page at <mount>/abac/admin: a static shell, its script and stylesheet. It holds no data: every
 * action goes through the module's routes with the admin's own credentials, behind their gates.
 */
export function registerAdminPage(router: Router, options: { signInFromLink?: boolean } = {}): void {
  const html = page(options.signInFromLink === true);
  const dir = bundleDir();
  const assets: Record<string, { type: string; body: Buffer | undefined }> = {
    'app.js': { type: 'text/javascript; charset=utf-8', body: safeRead(join(dir, 'app.js')) },
    'app.css': { type: 'text/css; charset=utf-8', body: safeRead(join(dir, 'app.css')) },
  };
  const headers = (res: Response, type: string) => {
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
  };
  router.get(ADMIN_PAGE_PATH, (_req: Request, res: Response) => {
    headers(res, 'text/html; charset=utf-8');
    // Asset paths are relative, so the page works under any mount.
    res.status(200).send(html);
  });
  router.get(`${ADMIN_PAGE_PATH}/:asset`, (req: Request, res: Response) => {
    const asset = assets[String(req.params.asset)];
    if (!asset) {
      res.status(404).json({ success: false, error: 'error-not-found', message: 'No such file' });
      return;
    }
    if (!asset.body) {
      res.status(503).json({
        success: false,
        error: 'error-admin-page-not-built',
        message: 'The admin page is not built: run npm run build',
      });
      return;
    }
    headers(res, asset.type);
    res.status(200).send(asset.body);
  });
}
