import { openTestDatabase, closeTestDatabase } from '../../helpers/database';
import { createRouter } from '../../../app/create-router';
import { createModels } from '../../../models';
import { silentLogger } from '../../../lib/logger';
import { SETTING_DEFAULTS } from '../../../lib/settings';
import { licenseKeys, makeLicense } from '../../helpers/host';

// The module's own settings appear in rocketchat_settings as Rocket.Chat keeps its settings, for its
// administration to show; a value an administrator set is never overwritten.

describe('the registration of the module’s own settings', () => {
  it('registers every ABAC_Sync_* setting with its type, group and default, and keeps values already set', async () => {
    const connection = await openTestDatabase();
    const models = createModels(connection);
    await models.settings.collection.insertOne({ _id: 'ABAC_Sync_Guard_Window_Minutes' as never, value: 15 });
    const sync = await createRouter({
      connection,
      license: { license: makeLicense(), publicKey: licenseKeys.publicKeyPem },
      logger: silentLogger,
      rateLimit: false,
      jobRunner: false,
      metricsRegistry: false,
    });
    try {
      const own = await models.settings.collection.find({ _id: /^ABAC_Sync_/ as never }).toArray();
      expect(own.map(({ _id }) => _id).sort()).toEqual(
        Object.keys(SETTING_DEFAULTS)
          .filter((id) => id.startsWith('ABAC_Sync_'))
          .sort(),
      );
      expect(
        await models.settings.collection.findOne({ _id: 'ABAC_Sync_Change_Feed_Enabled' as never }),
      ).toMatchObject({
        type: 'boolean',
        value: false,
        packageValue: false,
        group: 'LDAP',
        section: 'ABAC_Sync',
        i18nLabel: 'ABAC_Sync_Change_Feed_Enabled',
        public: false,
      });
      expect(
        await models.settings.collection.findOne({ _id: 'ABAC_Sync_Plans_Kept_Max' as never }),
      ).toMatchObject({
        type: 'int',
        value: 20,
      });
      // Set by an administrator before: left exactly as it was.
      expect(
        await models.settings.collection.findOne({ _id: 'ABAC_Sync_Guard_Window_Minutes' as never }),
      ).toEqual({
        _id: 'ABAC_Sync_Guard_Window_Minutes',
        value: 15,
      });
      // Rocket.Chat's own settings are its to register.
      expect(await models.settings.collection.countDocuments({ _id: /^LDAP_/ as never })).toBe(0);
    } finally {
      await sync.close();
      await closeTestDatabase(connection);
    }
  });
});
