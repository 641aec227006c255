import express from 'express';
import mongoose from 'mongoose';
import { EmbeddedMongo } from '../harness/embedded-mongo';
import { generatePeopleLdif, generatedUid, standardDirectory } from '../harness/fixtures';
import { Slapd } from '../harness/slapd';
import { createRouter } from '../lib/create-router';
import { hashLoginToken } from '../lib/auth';
import { generateLicenseKeys, signLicense } from '../lib/license';
import { silentLogger } from '../lib/logger';
import { createModels } from '../models';

(async () => {
  let t = Date.now();
  const slapd = await Slapd.start({ ldif: [...standardDirectory(), generatePeopleLdif({ count: 100_000 })] });
  console.log('slapd 100k', Date.now() - t, 'ms'); t = Date.now();
  const mongo = await EmbeddedMongo.start();
  const connection = await mongoose.createConnection(mongo.uri, { dbName: 'm' }).asPromise();
  const models = createModels(connection);
  await models.roles.create({ _id: 'admin', name: 'admin', scope: 'Users' });
  await models.users.create({ _id: 'admin', username: 'root', active: true, roles: ['admin'], services: { resume: { loginTokens: [{ hashedToken: hashLoginToken('tok'), when: new Date() }] } } });
  for (let s = 0; s < 100_000; s += 5000) {
    await models.users.insertMany(Array.from({ length: 5000 }, (_, i) => ({ _id: `id-${s + i}`, username: generatedUid(s + i), active: true, emails: [{ address: `${generatedUid(s + i)}@example.org` }] })), { lean: true } as never);
  }
  console.log('mongo 100k users', Date.now() - t, 'ms');
  const info = slapd.info();
  await models.settings.bulkWrite(Object.entries({ ABAC_Enabled: true, LDAP_Enable: true, LDAP_Host: '127.0.0.1', LDAP_Port: info.port, LDAP_Authentication: true, LDAP_Authentication_UserDN: info.serviceDN, LDAP_Authentication_Password: info.servicePassword, LDAP_BaseDN: info.baseDN, LDAP_User_Search_Field: 'uid', LDAP_User_Search_Filter: '(objectClass=inetOrgPerson)', LDAP_ABAC_AttributeMap: JSON.stringify({ departmentNumber: 'department', employeeType: 'employeeType' }) }).map(([_id, value]) => ({ updateOne: { filter: { _id }, update: { $set: { value } }, upsert: true } })));
  const keys = generateLicenseKeys();
  const { router } = await createRouter({ connection, logger: silentLogger, license: { license: signLicense({ licensee: 'x', modules: ['abac', 'ldap-enterprise'], validFrom: '2026-01-01T00:00:00Z', validUntil: '2027-12-31T00:00:00Z' }, keys.privateKeyPem), publicKey: keys.publicKeyPem } });
  const app = express(); app.use('/api/v1', router);
  const server = app.listen(0); const port = (server.address() as { port: number }).port;
  const call = async (first: number) => { const st = process.hrtime.bigint(); const r = await fetch(`http://127.0.0.1:${port}/api/v1/abac/users/sync`, { method: 'POST', headers: { 'X-User-Id': 'admin', 'X-Auth-Token': 'tok', 'content-type': 'application/json' }, body: JSON.stringify({ usernames: Array.from({ length: 100 }, (_, i) => generatedUid(first + i * 997 % 100000)) }) }); const b = await r.json() as { summary: object }; return [Number(process.hrtime.bigint() - st) / 1e6, r.status, JSON.stringify(b.summary)]; };
  for (let i = 0; i < 12; i++) console.log(await call(i * 1000 + 17));
  server.close(); await connection.close(); await mongo.stop(); await slapd.stop();
})();
