import { z } from 'zod';
import type { Clock } from './clock';
import type { FeedStatus } from './feed/feed-status';
import type { Directory } from './ldap/directory';
import { booleanSetting, type SettingsSource } from './settings';
import { syncConfiguration } from './sync/sync-configuration';
import { TtlValue } from './ttl-cache';

export const healthSchema = z
  .object({
    status: z
      .enum(['up', 'down'])
      .meta({ description: 'down when MongoDB cannot be reached: take this process out.' }),
    mongo: z.enum(['up', 'down']),
    ldap: z.enum(['up', 'down', 'off']).meta({ description: 'off: LDAP_Enable is off.' }),
    runner: z
      .enum(['up', 'off'])
      .meta({ description: 'off: this process takes no part in runs and the feed.' }),
    feed: z
      .enum(['up', 'down', 'off'])
      .meta({ description: 'down: its last poll failed, or it holds changes for review.' }),
  })
  .meta({ id: 'Health' });

export type Health = z.infer<typeof healthSchema>;

export interface HealthPorts {
  /** Resolves when the database answers. */
  pingDatabase(): Promise<void>;
  settings: SettingsSource;
  directory: Directory;
  runnerActive: boolean;
  feedStatus(): Promise<FeedStatus>;
  clock: Clock;
}

/** How long an answer is reused: a load balancer polling every second costs one check per this. */
export const HEALTH_CACHE_MS = 5000;

/**
 * What a load balancer or an orchestrator may know without credentials: whether MongoDB and the directory
 * answer, and whether this process runs jobs and the feed, as up, down or off. Nothing else: no address,
 * no count, no error text. One check at a time, reused for HEALTH_CACHE_MS.
 */
export class HealthCheck {
  private readonly cached: TtlValue<Health>;

  constructor(private readonly ports: HealthPorts) {
    this.cached = new TtlValue(() => this.check(), HEALTH_CACHE_MS, ports.clock);
  }

  report(): Promise<Health> {
    return this.cached.get();
  }

  private async check(): Promise<Health> {
    const [mongo, ldap, feed] = await Promise.all([this.mongo(), this.ldap(), this.feed()]);
    return {
      status: mongo,
      mongo,
      ldap,
      runner: this.ports.runnerActive ? 'up' : 'off',
      feed,
    };
  }

  private async mongo(): Promise<'up' | 'down'> {
    return this.ports.pingDatabase().then(
      () => 'up' as const,
      () => 'down' as const,
    );
  }

  private async ldap(): Promise<'up' | 'down' | 'off'> {
    try {
      const snapshot = await this.ports.settings.current();
      if (booleanSetting(snapshot.LDAP_Enable) !== true) return 'off';
      const session = await this.ports.directory.open(syncConfiguration(snapshot).connection);
      await session.close();
      return 'up';
    } catch {
      return 'down';
    }
  }

  private async feed(): Promise<'up' | 'down' | 'off'> {
    try {
      const { state } = await this.ports.feedStatus();
      return state === 'off' ? 'off' : state === 'following' || state === 'starting' ? 'up' : 'down';
    } catch {
      return 'down';
    }
  }
}
