import { demoBanner, withDatabase, type BannerFacts } from '../../demo/banner';

// What `npm start` prints (pure).

const demo: BannerFacts = {
  syncUrl: 'http://127.0.0.1:3000/api/v1/abac/users/sync',
  adminUrl: 'http://127.0.0.1:3000/api/v1/abac/admin#user=demo-admin&token=t',
  metricsUrl: 'http://127.0.0.1:3000/metrics',
  headers: { 'X-User-Id': 'demo-admin', 'X-Auth-Token': 't' },
  exampleBody: { usernames: ['alice', 'bob', 'carol'] },
  mongo: 'embedded MongoDB-wire server, mongodb://127.0.0.1:40000/abac_demo (in memory, gone at exit)',
  cliDatabase: '--mongo-uri mongodb://127.0.0.1:40000/abac_demo',
  cliPrefix: '',
  ldap: 'embedded demo directory',
  directoryUsers: 3,
};

describe('the demo banner', () => {
  it('names the database in the URI it prints, so the CLI given it reaches the demo data', () => {
    expect(withDatabase('mongodb://127.0.0.1:40000', 'abac_demo')).toBe(
      'mongodb://127.0.0.1:40000/abac_demo',
    );
    expect(withDatabase('mongodb://127.0.0.1:40000/', 'abac_demo')).toBe(
      'mongodb://127.0.0.1:40000/abac_demo',
    );
    expect(withDatabase('mongodb://127.0.0.1:40000/other?directConnection=true', 'abac_demo')).toBe(
      'mongodb://127.0.0.1:40000/abac_demo?directConnection=true',
    );
    expect(demoBanner(demo)).toContain(
      '  npm run cli -- sync-all --dry-run --mongo-uri mongodb://127.0.0.1:40000/abac_demo\n',
    );
  });

  it('says when the directory is too small for the guard to stop anything, and how to grow it', () => {
    expect(demoBanner(demo)).toMatch(
      /holds 3 users: too few for the mass-revocation guard .*DEMO_POPULATION=3000/s,
    );
    expect(demoBanner({ ...demo, directoryUsers: 3003 })).not.toContain('DEMO_POPULATION');
    // A directory the settings name: its size is unknown, so nothing is claimed.
    const { directoryUsers: _unknown, ...external } = demo;
    expect(demoBanner(external)).not.toContain('DEMO_POPULATION');
  });

  it('asks for the MongoDB URI again when the demo was given one, never printing it', () => {
    const banner = demoBanner({
      ...demo,
      cliDatabase: '--db abac_demo',
      cliPrefix: 'MONGODB_URI=<your MongoDB URI> ',
    });
    expect(banner).toContain(
      '  MONGODB_URI=<your MongoDB URI> npm run cli -- sync-all --dry-run --db abac_demo\n',
    );
  });
});
