import type { Clock } from '../lib/clock';
import {
  SETTING_DEFAULTS,
  SETTING_IDS,
  type SettingId,
  type SettingsSnapshot,
  type SettingsSource,
} from '../lib/settings';
import { TtlValue } from '../lib/ttl-cache';
import type { SettingModel } from '../models/setting';

export interface MongoSettingsSourceOptions {
  settings: SettingModel;
  clock: Clock;
  /** How long a read is reused: a change in the database takes effect within this bound. */
  cacheTtlMs: number;
  /** Values the host fixes, taking precedence over the database. */
  overrides?: Partial<Record<SettingId, unknown>>;
}

/** Reads every known setting in one query and keeps the snapshot for cacheTtlMs. */
export class MongoSettingsSource implements SettingsSource {
  private readonly cache: TtlValue<SettingsSnapshot>;

  constructor(private readonly options: MongoSettingsSourceOptions) {
    this.cache = new TtlValue(() => this.load(), options.cacheTtlMs, options.clock);
  }

  current(): Promise<SettingsSnapshot> {
    return this.cache.get();
  }

  private async load(): Promise<SettingsSnapshot> {
    const stored = await this.options.settings
      .find({ _id: { $in: SETTING_IDS } }, { _id: 1, value: 1 })
      .lean()
      .exec();
    const snapshot: Record<string, unknown> = { ...SETTING_DEFAULTS };
    for (const setting of stored) {
      if (setting.value !== undefined && setting.value !== null) snapshot[setting._id] = setting.value;
    }
    return Object.freeze({ ...snapshot, ...this.options.overrides }) as SettingsSnapshot;
  }
}
