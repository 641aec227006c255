import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPorts } from './free-port';
import { run, which } from './run';
import { makeTestCertificates, type TestCertificates } from './tls';
import { waitFor, waitForPort } from './wait';

export const BASE_DN = 'dc=example,dc=org';
export const ADMIN_DN = `cn=admin,${BASE_DN}`;
export const ADMIN_PASSWORD = 'admin-secret';
export const SERVICE_DN = `cn=abac-sync,ou=services,${BASE_DN}`;
export const SERVICE_PASSWORD = 'sync-secret';

const SLAPD_CANDIDATES = ['/usr/sbin/slapd', 'slapd'];
const SLAPADD_CANDIDATES = ['/usr/sbin/slapadd', 'slapadd'];
const INSTALL_HINT =
  "install Debian's OpenLDAP server: echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections; " +
  'apt-get install -y slapd ldap-utils';

export interface SlapdOptions {
  /** LDIF texts loaded with slapadd before the server starts (memberOf must be precomputed). */
  ldif: string[];
  /** subjectAltName entries of the server certificate (default: 127.0.0.1 and localhost). */
  certificateNames?: readonly string[];
  /**
   * The change-time indexes the changed-entries feed needs on a large directory (default on; off only to
   * measure what they save).
   */
  changeTimeIndexes?: boolean;
}

/** What docs/feed.md tells operators to add for the changed-entries feed. */
export const CHANGE_TIME_INDEXES = ['entryCSN eq', 'modifyTimestamp eq', 'createTimestamp eq'];

export interface SlapdInfo {
  name: string;
  version: string;
  url: string;
  ldapsUrl: string;
  port: number;
  ldapsPort: number;
  baseDN: string;
  adminDN: string;
  adminPassword: string;
  serviceDN: string;
  servicePassword: string;
  caCertPem: string;
  caCertPath: string;
  pid: number;
  dir: string;
}

/** A private OpenLDAP server on loopback, configured and seeded from scratch in a temporary directory. */
export class Slapd {
  private child: ChildProcess | undefined;
  private exited = true;

  private constructor(
    private readonly dir: string,
    private readonly binary: string,
    private readonly slapadd: string,
    readonly version: string,
    readonly certificates: TestCertificates,
    readonly port: number,
    readonly ldapsPort: number,
  ) {}

  static async start(options: SlapdOptions): Promise<Slapd> {
    const binary = await findProgram(SLAPD_CANDIDATES);
    const slapadd = await findProgram(SLAPADD_CANDIDATES);
    const dir = await mkdtemp(join(tmpdir(), 'abac-slapd-'));
    try {
      const certificates = await makeTestCertificates(dir, undefined, options.certificateNames);
      const configDir = join(dir, 'slapd.d');
      const dataDir = join(dir, 'data');
      await mkdir(configDir);
      await mkdir(dataDir);
      await writeFile(
        join(dir, 'config.ldif'),
        configLdif(dir, dataDir, certificates, options.changeTimeIndexes ?? true),
      );
      await run(slapadd, ['-n0', '-F', configDir, '-l', join(dir, 'config.ldif')]);
      await writeFile(join(dir, 'data.ldif'), options.ldif.join('\n'));
      await run(slapadd, ['-q', '-n1', '-F', configDir, '-l', join(dir, 'data.ldif')]);
      const version = await slapdVersion(binary);
      const [port, ldapsPort] = (await freeLoopbackPorts(2)) as [number, number];
      const server = new Slapd(dir, binary, slapadd, version, certificates, port, ldapsPort);
      await server.resume();
      return server;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get pid(): number {
    if (!this.child?.pid || this.exited) throw new Error('slapd is not running');
    return this.child.pid;
  }

  get running(): boolean {
    return !this.exited;
  }

  info(): SlapdInfo {
    return {
      name: 'OpenLDAP slapd',
      version: this.version,
      url: `ldap://127.0.0.1:${this.port}`,
      ldapsUrl: `ldaps://127.0.0.1:${this.ldapsPort}`,
      port: this.port,
      ldapsPort: this.ldapsPort,
      baseDN: BASE_DN,
      adminDN: ADMIN_DN,
      adminPassword: ADMIN_PASSWORD,
      serviceDN: SERVICE_DN,
      servicePassword: SERVICE_PASSWORD,
      caCertPem: this.certificates.caCertPem,
      caCertPath: this.certificates.caCertPath,
      pid: this.pid,
      dir: this.dir,
    };
  }

  /** Starts (or restarts after stopProcess) the daemon on the same ports and data. */
  async resume(): Promise<void> {
    if (!this.exited) return;
    const urls = `ldap://127.0.0.1:${this.port}/ ldaps://127.0.0.1:${this.ldapsPort}/`;
    const child = spawn(this.binary, ['-d', '0', '-h', urls, '-F', join(this.dir, 'slapd.d')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    this.child = child;
    this.exited = false;
    child.once('exit', () => {
      this.exited = true;
    });
    try {
      for (const port of [this.port, this.ldapsPort])
        await waitForPort('127.0.0.1', port, 10_000, () => !this.exited);
    } catch (error) {
      throw new Error(`slapd did not start: ${String(error)}\n${stderr}`);
    }
  }

  /** Ends the daemon and waits for it, keeping its data so resume() can bring it back. */
  async stopProcess(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /**
   * Stops the daemon, adds `ldif` with slapadd, and starts it again. slapadd keeps the entryCSN and change
   * times the LDIF gives, so an entry can arrive carrying an older change time, as a change replicated
   * late from another provider does (slapd refuses those attributes over LDAP, even with the relax control).
   */
  async addOffline(ldif: string): Promise<void> {
    await this.stopProcess();
    const file = join(this.dir, `offline-${Date.now()}.ldif`);
    await writeFile(file, ldif);
    await run(this.slapadd, ['-n1', '-F', join(this.dir, 'slapd.d'), '-l', file]);
    await this.resume();
  }

  /**
   * Freezes the daemon (SIGSTOP): connections are accepted by the kernel but never answered. Resolves once
   * the kernel reports the process stopped: the signal is delivered asynchronously, and a daemon busy on
   * another core could otherwise still answer the next request.
   */
  async freeze(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => processState(pid) === 'T', 5000, `slapd (pid ${pid}) to stop`);
  }

  thaw(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.child && !this.exited) {
      process.kill(this.pid, 'SIGCONT');
      await this.stopProcess('SIGTERM');
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

async function findProgram(candidates: string[]): Promise<string> {
  for (const candidate of candidates) {
    const found = await which(candidate);
    if (found) return found;
  }
  throw new Error(`OpenLDAP's ${candidates[0]} was not found: ${INSTALL_HINT}`);
}

async function slapdVersion(binary: string): Promise<string> {
  let output: string;
  try {
    const { stdout, stderr } = await run(binary, ['-VVV']);
    output = stdout + stderr;
  } catch (error) {
    output = String(error);
  }
  return /slapd ([0-9][^ ]*)/.exec(output)?.[1] ?? 'unknown';
}

function configLdif(
  dir: string,
  dataDir: string,
  certificates: TestCertificates,
  changeTimeIndexes: boolean,
): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${join(dir, 'slapd.pid')}
olcTLSCACertificateFile: ${certificates.caCertPath}
olcTLSCertificateFile: ${certificates.serverCertPath}
olcTLSCertificateKeyFile: ${certificates.serverKeyPath}

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/nis.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: cn={4}adcompat,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: {4}adcompat
olcAttributeTypes: ( 1.3.6.1.4.1.99999.77.1.1 NAME 'objectGUID' DESC 'Active Directory style 16-byte GUID' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcAttributeTypes: ( 1.3.6.1.4.1.99999.77.1.2 NAME 'objectSid' DESC 'Active Directory style security identifier' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.99999.77.2.1 NAME 'adCompatObject' DESC 'carries AD binary identifiers' AUXILIARY MAY ( objectGUID $ objectSid ) )

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${BASE_DN}
olcRootDN: ${ADMIN_DN}
olcRootPW: ${ADMIN_PASSWORD}
olcDbDirectory: ${dataDir}
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcDbIndex: mail eq
olcDbIndex: employeeNumber eq
olcDbIndex: objectGUID eq
olcDbIndex: entryUUID eq
${changeTimeIndexes ? CHANGE_TIME_INDEXES.map((index) => `olcDbIndex: ${index}\n`).join('') : ''}olcLimits: {0}dn.exact="${SERVICE_DN}" time=unlimited size=unlimited size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
`;
}

/** The one-letter state in /proc/<pid>/stat (Linux): 'T' when stopped by a signal. */
function processState(pid: number): string | undefined {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may contain spaces; the state follows the closing one.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}
