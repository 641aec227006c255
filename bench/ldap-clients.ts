// The two LDAP clients behind the Directory port, side by side: the whole subtree read as a full run's
// floor reads it, round after round in alternating order, with the wall time and the CPU of this process
// (where the client decodes) and of slapd (which encodes). Ratios are ldapts over ldapjs, paired per round.
import { performance } from 'node:perf_hooks';
import type { Slapd } from '../harness/slapd';
import type { Directory, DirectorySession } from '../lib/ldap/directory';
import { LdapjsDirectory } from './ldapjs-directory';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import { silentLogger } from '../lib/logger';
import { MAP } from './data';
import { CpuMeter } from './process-cpu';
import { PERSON } from './variants';

const CLIENTS = {
  ldapjs: () => new LdapjsDirectory(silentLogger),
  ldapts: () => new LdaptsDirectory(silentLogger),
} satisfies Record<string, () => Directory>;
type ClientName = keyof typeof CLIENTS;

const ROUNDS = Number(process.env.BENCH_CLIENT_ROUNDS ?? 5);

interface Reading {
  wallMs: number;
  benchCpuMs: number;
  slapdCpuMs: number;
  entries: number;
}

export async function measureLdapClients(slapd: Slapd, log: (message: string) => void) {
  const meter = new CpuMeter({ bench: process.pid, slapd: slapd.pid });
  const readings: Record<ClientName, Reading[]> = { ldapjs: [], ldapts: [] };
  // One untimed read each first: the clients' code and slapd's cache warm alike.
  for (const name of Object.keys(CLIENTS) as ClientName[]) await readSubtree(slapd, name, meter);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order: ClientName[] = round % 2 === 0 ? ['ldapjs', 'ldapts'] : ['ldapts', 'ldapjs'];
    for (const name of order) readings[name].push(await readSubtree(slapd, name, meter));
    log(
      `LDAP clients, round ${round + 1}/${ROUNDS}: ` +
        order.map((name) => `${name} ${Math.round(readings[name].at(-1)!.wallMs)} ms`).join(', '),
    );
  }
  const entries = readings.ldapjs[0]!.entries;
  const perClient = (name: ClientName) => ({
    wallMs: spread(readings[name].map((reading) => reading.wallMs)),
    benchCpuMs: spread(readings[name].map((reading) => reading.benchCpuMs)),
    slapdCpuMs: spread(readings[name].map((reading) => reading.slapdCpuMs)),
    clientCpuMicrosecondsPerEntry: round1((median(readings[name].map((r) => r.benchCpuMs)) * 1000) / entries),
  });
  const paired = (pick: (reading: Reading) => number) =>
    spread(
      readings.ldapts.map((reading, index) => pick(reading) / pick(readings.ldapjs[index]!)),
      3,
    );
  return {
    entries,
    rounds: ROUNDS,
    ldapjs: perClient('ldapjs'),
    ldapts: perClient('ldapts'),
    pairedRatios: { wall: paired((r) => r.wallMs), clientCpu: paired((r) => r.benchCpuMs) },
  };
}

async function readSubtree(slapd: Slapd, name: ClientName, meter: CpuMeter): Promise<Reading> {
  const session = await open(slapd, CLIENTS[name]());
  try {
    let entries = 0;
    const stop = meter.start();
    const started = performance.now();
    await session.search(
      {
        baseDN: slapd.info().baseDN,
        scope: 'sub',
        filter: { kind: 'configured', text: PERSON },
        attributes: [...Object.keys(MAP), 'uid', 'employeeNumber'],
        pageSize: 1000,
        sizeLimit: 0,
      },
      // What a full run reads of each entry: the text of the mapped values and the identifier's bytes.
      (entry) => {
        entries += 1;
        for (const attribute of Object.keys(MAP)) entry.attributes.get(attribute.toLowerCase())?.values;
        entry.attributes.get('employeenumber')?.buffers;
      },
    );
    const wallMs = performance.now() - started;
    const cpu = stop();
    return { wallMs, benchCpuMs: cpu.bench!, slapdCpuMs: cpu.slapd!, entries };
  } finally {
    await session.close();
  }
}

function open(slapd: Slapd, directory: Directory): Promise<DirectorySession> {
  const info = slapd.info();
  return directory.open({
    hosts: ['127.0.0.1'],
    port: info.port,
    encryption: 'plain',
    caCertPem: undefined,
    rejectUnauthorized: true,
    connectTimeoutMs: 5000,
    operationTimeoutMs: 60_000,
    bind: { dn: info.serviceDN, password: info.servicePassword },
  });
}

const median = (values: number[]) => quantile(values, 0.5);
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  return sorted[low]! + (sorted[Math.ceil(position)]! - sorted[low]!) * (position - low);
}
/** Median and interquartile range. */
function spread(values: number[], digits = 1) {
  const factor = 10 ** digits;
  const round = (value: number) => Math.round(value * factor) / factor;
  return {
    median: round(median(values)),
    iqr: [round(quantile(values, 0.25)), round(quantile(values, 0.75))],
  };
}
const round1 = (value: number) => Math.round(value * 10) / 10;
