/** What the Jest global setup started, handed to every test file through one environment variable. */
export interface TestServers {
  ldap: {
    name: string;
    version: string;
    url: string;
    ldapsUrl: string;
    baseDN: string;
    adminDN: string;
    adminPassword: string;
    serviceDN: string;
    servicePassword: string;
    caCertPem: string;
  };
  mongo: {
    name: string;
    uri: string;
  };
}

export const TEST_SERVERS_ENV = 'ABAC_TEST_SERVERS';

export function testServers(): TestServers {
  const raw = process.env[TEST_SERVERS_ENV];
  if (!raw) throw new Error(`${TEST_SERVERS_ENV} is not set: run the tests through jest (npm test)`);
  return JSON.parse(raw) as TestServers;
}
