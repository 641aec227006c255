// The two LDAP clients behind the Directory port, side by side: the whole subtree read as a full run's
// floor reads it, round after round in alternating order, with the wall time and the CPU of this process
// (where the client decodes) and of slapd (which encodes). Ratios are ldapts over ldapjs, paired per round.
import { performance } from 'node:perf_hooks';
import type { Slapd } from '../harness/slapd';
import type { Directory } from '../lib/ldap/directory';
import { openSession } from './feed';
import { LdapjsDirectory } from './ldapjs-directory';
import { LdaptsDirectory } from '../lib/ldap/ldapts-directory';
import { silentLogger } from '../lib/logger';
import { MAP } from './data';
import { CpuMeter } from './process-cpu';
import { median, round1, spread } from './statistics';
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
  const perClient = (name: ClientName) => {
    const times = (pick: (reading: Reading) => number) => spread(readings[name].map(pick), 1);
    return {
      wallMs: times((reading) => reading.wallMs),
      benchCpuMs: times((reading) => reading.benchCpuMs),
      slapdCpuMs: times((reading) => reading.slapdCpuMs),
      clientCpuMicrosecondsPerEntry: round1(
        (median(readings[name].map((r) => r.benchCpuMs)) * 1000) / entries,
      ),
    };
  };
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
  const session = await openSession(slapd, undefined, CLIENTS[name]());
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
