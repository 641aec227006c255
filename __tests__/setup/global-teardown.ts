export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__abacTestServers;
  await Promise.all([started?.slapd?.stop(), started?.mongo?.stop()]);
}
