import { SETTING_DEFAULTS, type SettingId } from '../lib/settings';
import type { SettingModel } from '../models/setting';

/** Where Rocket.Chat's administration shows the module's own settings. */
export const SETTINGS_GROUP = 'LDAP';
export const SETTINGS_SECTION = 'ABAC_Sync';

const OWN_SETTINGS = (Object.keys(SETTING_DEFAULTS) as SettingId[]).filter((id) =>
  id.startsWith('ABAC_Sync_'),
);

function settingType(value: unknown): 'boolean' | 'int' | 'string' {
  return typeof value === 'boolean' ? 'boolean' : typeof value === 'number' ? 'int' : 'string';
}

/**
 * Registers the module's own settings (`ABAC_Sync_*`) in rocketchat_settings as Rocket.Chat stores its
 * settings (type, group, section, default, label keys), so that a Rocket.Chat administrator sees and edits
 * them. Only a setting that does not exist is written: a value already there, and whatever else its
 * document holds, is never changed. Rocket.Chat's own settings (LDAP_*, ABAC_Enabled) are its to register.
 */
export async function registerOwnSettings(settings: SettingModel, now: Date): Promise<void> {
  await settings.collection.bulkWrite(
    OWN_SETTINGS.map((id, index) => {
      const value = SETTING_DEFAULTS[id];
      return {
        updateOne: {
          filter: { _id: id as never },
          update: {
            $setOnInsert: {
              type: settingType(value),
              value,
              packageValue: value,
              valueSource: 'packageValue',
              group: SETTINGS_GROUP,
              section: SETTINGS_SECTION,
              i18nLabel: id,
              i18nDescription: `${id}_Description`,
              public: false,
              hidden: false,
              blocked: false,
              enterprise: true,
              modules: ['abac', 'ldap-enterprise'],
              sorter: index,
              ts: now,
              createdAt: now,
              _updatedAt: now,
            },
          },
          upsert: true,
        },
      };
    }),
    { ordered: false },
  );
}
