import mongoose from 'mongoose';
import { EmbeddedMongo } from '../../harness/embedded-mongo';
import { generatePeopleLdif, standardDirectory } from '../../harness/fixtures';
import { Slapd } from '../../harness/slapd';
import { TEST_SERVERS_ENV, type TestServers } from '../../harness/test-servers';

/** People beyond the standard fixtures, so paging past the default size limit (500) is exercised. */
const EXTRA_PEOPLE = 600;

interface StartedServers {
  slapd?: Slapd;
  mongo?: EmbeddedMongo;
}

declare global {
  var __abacTestServers: StartedServers | undefined;
}

export default async function globalSetup(): Promise<void> {
  const started: StartedServers = {};
  globalThis.__abacTestServers = started;
  const stopOnExit = () => {
    void started.slapd?.stopProcess('SIGKILL');
  };
  process.once('exit', stopOnExit);

  started.slapd = await Slapd.start({
    ldif: [...standardDirectory(), generatePeopleLdif({ count: EXTRA_PEOPLE })],
  });
  const ldap = started.slapd.info();

  let mongoUri = process.env.MONGODB_URI;
  let mongoName: string;
  if (mongoUri) {
    mongoName = `MongoDB ${await serverVersion(mongoUri)} (MONGODB_URI)`;
  } else {
    started.mongo = await EmbeddedMongo.start();
    mongoUri = started.mongo.uri;
    mongoName = started.mongo.description;
  }

  const servers: TestServers = {
    ldap: {
      name: ldap.name,
      version: ldap.version,
      url: ldap.url,
      ldapsUrl: ldap.ldapsUrl,
      baseDN: ldap.baseDN,
      adminDN: ldap.adminDN,
      adminPassword: ldap.adminPassword,
      serviceDN: ldap.serviceDN,
      servicePassword: ldap.servicePassword,
      caCertPem: ldap.caCertPem,
    },
    mongo: { name: mongoName, uri: mongoUri },
  };
  process.env[TEST_SERVERS_ENV] = JSON.stringify(servers);
  process.stdout.write(
    `\nTest servers: LDAP ${ldap.name} ${ldap.version} at ${ldap.url} and ${ldap.ldapsUrl} (pid ${ldap.pid}); ` +
      `MongoDB-wire ${mongoName} at ${mongoUri.replace(/\/\/[^@/]*@/, '//***@')}\n`,
  );
}

async function serverVersion(uri: string): Promise<string> {
  const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 }).asPromise();
  try {
    const info = await connection.db?.admin().buildInfo();
    return String(info?.version ?? 'unknown version');
  } catch (error) {
    throw new Error(`MONGODB_URI is set but its server cannot be used: ${String(error)}`);
  } finally {
    await connection.close();
  }
}
