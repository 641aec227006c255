// The README's mounting sample. It is type-checked by `npm run lint` and run by __tests__/mount-example.test.ts.
import express from 'express';
import mongoose from 'mongoose';
import { createRouter } from '../app';

export async function createHostApp(mongoUri: string, license: string, licensePublicKeyPem: string) {
  const connection = await mongoose.createConnection(mongoUri).asPromise();
  const { router, close } = await createRouter({
    connection,
    license: { license, publicKey: licensePublicKeyPem },
  });
  const app = express();
  app.disable('x-powered-by');
  app.use('/api/v1', router);
  // On shutdown, once the HTTP server stopped taking requests: await close() (the work that follows answers
  // already sent, pooled LDAP connections), then connection.close().
  return { app, connection, close };
}
