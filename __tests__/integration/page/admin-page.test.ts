import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  ADMIN_ID,
  ADMIN_TOKEN,
  seedAliceInSalesRoom,
  setSettings,
  startTestHost,
  userWithToken,
  type TestHost,
} from '../../helpers/host';
import { GatedDirectory } from '../../helpers/directories';
import { FAST_RUNNER, readJob, startRun } from '../../helpers/jobs';
import { MongoSyncJobStore } from '../../../mongo/mongo-job-store';
import { REPO_ROOT } from '../../helpers/paths';

// The admin page in a real browser: Debian's Chromium driven by playwright-core (no browser download),
// against a host on the real slapd and MongoDB-wire server. Screenshots go to test-output/admin.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'admin');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

describe('the admin page in Chromium', () => {
  let host: TestHost;
  let server: Server;
  let browser: Browser;
  let pageUrl: string;
  // The real slapd; a test holds a run in its planning phase with `gate`.
  const directory = new GatedDirectory();

  beforeAll(async () => {
    // signInFromLink as the demo host sets it (a real host leaves it off: admin-links.test.ts).
    host = await startTestHost({
      jobRunner: FAST_RUNNER,
      directory,
      settingsCacheTtlMs: 0,
      adminPage: { signInFromLink: true },
    });
    await seedAliceInSalesRoom(host.models);
    // bob and carol are in the directory with no attributes stored yet.
    for (const username of ['bob', 'carol'])
      await host.models.users.create({ _id: `u-${username}`, username, active: true, ldap: true });
    server = createServer(host.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/abac/admin`;
    // A missing browser fails here, loudly: `.ci/run` installs Debian's chromium.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await host?.close();
  });

  async function signedIn(token = ADMIN_TOKEN, userId = ADMIN_ID): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(pageUrl);
    await page.getByLabel('User id').fill(userId);
    await page.getByLabel('Login token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  const rowUsers = (page: Page) =>
    page
      .locator('tbody tr[data-user]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-user')));

  const aliceInSales = async () => (await host.models.subscriptions.countDocuments({ _id: 's-alice' })) === 1;

  it('is served with a strict Content-Security-Policy and no data of its own', async () => {
    const response = await fetch(pageUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(await response.text()).not.toContain(ADMIN_ID);
  });

  it('previews, then applies exactly the previewed sync after a confirmation: rows in the same order, words not keys, the database changed only after Apply', async () => {
    const page = await signedIn();
    await page.screenshot({ path: join(SCREENSHOTS, 'sync-empty.png') });
    const named = 'alice\nbob\nid:u-carol\nnobody@example.org';
    const list = page.getByLabel(/Users, one per line/);
    const apply = page.getByRole('button', { name: 'Apply the preview' });
    await list.fill(named);
    expect(await page.getByText('4 users named').isVisible()).toBe(true);
    expect(await apply.isDisabled()).toBe(true);
    const posted: unknown[] = [];
    page.on('request', (sent) => {
      if (sent.method() === 'POST') posted.push(sent.postDataJSON());
    });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('tr[data-user="carol"]').waitFor();
    expect(await page.getByRole('heading', { name: /Preview: nothing was written/ }).isVisible()).toBe(true);
    expect(await rowUsers(page)).toEqual(['alice', 'bob', 'carol']);
    expect(await page.locator('tr[data-user="alice"]').textContent()).toMatch(
      /alice.*values changed.*department: eng.*department: sales.*sales/,
    );
    expect(await page.locator('tr[data-user="bob"]').textContent()).toMatch(
      /bob.*values changed.*department: eng/,
    );
    expect(await page.locator('tr[data-user="carol"]').textContent()).toMatch(
      /carol.*values changed.*department: sales/,
    );
    // The summary and the unmatched list in words, one in the singular; no raw keys.
    expect(await page.locator('.summary').textContent()).toMatch(
      /4 named 3 matched 3 values changed 0 all values removed 0 unchanged 0 not in the directory 0 failed 1 room membership ended/,
    );
    expect(await page.locator('.unmatched').textContent()).toContain('nobody@example.org (email)');
    await page.screenshot({ path: join(SCREENSHOTS, 'sync-preview.png'), fullPage: true });

    // Edited after the preview: Apply waits for a new one, so it never applies a list nobody previewed.
    await list.fill(`${named}\ndave`);
    expect(await page.locator('.hint').textContent()).toMatch(/changed since the preview/);
    expect(await apply.isDisabled()).toBe(true);
    await list.fill(named);
    // Alice would lose a value and leave sales: a red button, and a question that says so.
    expect(await apply.getAttribute('class')).toBe('danger');
    await apply.click();
    expect(await page.locator('.confirm').textContent()).toMatch(
      /Apply the previewed sync of 3 users: 3 users change, 1 user loses values and 1 room membership ends\?/,
    );
    expect(await aliceInSales()).toBe(true);
    expect(await host.models.users.countDocuments({ abacAttributes: { $exists: true } })).toBe(1);

    await page.getByRole('button', { name: 'Yes, apply it' }).click();
    await page.getByRole('heading', { name: 'Applied' }).waitFor();
    expect(await rowUsers(page)).toEqual(['alice', 'bob', 'carol']);
    expect(await page.locator('tr[data-user="alice"]').textContent()).toMatch(/values changed.*sales$/);
    expect(await page.getByRole('columnheader', { name: 'Removed from rooms' }).count()).toBe(1);
    expect(await aliceInSales()).toBe(false);
    expect(await host.models.users.countDocuments({ abacAttributes: { $exists: true } })).toBe(3);
    // The apply sent the previewed body, as a real sync.
    expect(posted).toHaveLength(2);
    expect(posted[1]).toEqual({ ...(posted[0] as object), dryRun: false });
    await page.screenshot({ path: join(SCREENSHOTS, 'sync-applied.png'), fullPage: true });
  }, 60_000);

  it('lists a run while it runs, and follows a run already running when the page opens', async () => {
    let release!: () => void;
    directory.gate = new Promise((resolve) => {
      release = resolve;
    });
    let jobId: string;
    let page: Page;
    try {
      jobId = (await startRun(host.app, { dryRun: true }))._id;
      const deadline = Date.now() + 10_000;
      while ((await readJob(host.app, jobId)).state !== 'running') {
        if (Date.now() > deadline) throw new Error('the host did not take the run');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      page = await signedIn();
      await page.locator(`.followed[data-job="${jobId}"][data-state="running"]`).waitFor();
      const row = page.locator(`table.runs tr[data-job="${jobId}"]`);
      expect(await row.textContent()).toMatch(/admin \(dry run\)rootrunning/);
      expect(await page.getByRole('button', { name: 'Cancel the run' }).isEnabled()).toBe(true);
    } finally {
      release();
      directory.gate = undefined;
    }
    await page
      .locator(`table.runs tr[data-job="${jobId}"] td:text-is("completed")`)
      .waitFor({ timeout: 30_000 });
  }, 60_000);

  it('starts a directory-wide dry run, follows it to 100% and lists it; a real run asks first', async () => {
    const page = await signedIn();
    const before = await host.models.syncJobs.countDocuments();
    const completedDryRuns = await host.models.syncJobs.countDocuments({ dryRun: true, state: 'completed' });
    await page.getByRole('button', { name: 'Start a run' }).click();
    await page.getByRole('button', { name: 'No', exact: true }).click();
    expect(await host.models.syncJobs.countDocuments()).toBe(before);

    await page.getByRole('button', { name: 'Start a dry run' }).click();
    await page.locator('.followed[data-state="completed"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('progress').getAttribute('value')).toBe('100');
    expect(await page.locator('.percent').textContent()).toBe('100%');
    const newest = page.locator('table.runs tbody tr').first();
    await newest.waitFor();
    expect(await newest.textContent()).toMatch(/admin \(dry run\)rootcompleted/);
    expect(await host.models.syncJobs.countDocuments({ dryRun: true, state: 'completed' })).toBe(
      completedDryRuns + 1,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'runs.png'), fullPage: true });
  }, 60_000);

  it('reviews a blocked run’s plan and applies it after a confirmation naming what it does', async () => {
    // One LDAP user (alice) losing a value is too many when the guard allows none.
    await setSettings(host.models, { ABAC_Sync_Guard_Min_Users: 0 });
    await host.models.users.updateOne(
      { _id: 'u-alice' },
      { $push: { abacAttributes: { key: 'retired', values: ['yes'] } } },
    );
    const page = await signedIn();
    try {
      await page.getByRole('button', { name: 'Start a run' }).click();
      await page.getByRole('button', { name: 'Yes, start the run' }).click();
      const blocked = page.locator('.followed[data-state="blocked"]');
      await blocked.waitFor({ timeout: 30_000 });
      // Said in words and colour, with why and what to do; no full progress bar reading like a clean run.
      expect(await blocked.locator('.blocked-notice').textContent()).toMatch(
        /Blocked by the mass-revocation guard: 1 of 3 users would lose values \(0 cleared\), 0 room memberships would end\. .*Nothing of it was applied/,
      );
      expect(await blocked.locator('progress').count()).toBe(0);
      // The list holds the earlier dry run too, whose plan is another one.
      const blockedId = await blocked.getAttribute('data-job');
      const row = page.locator(`table.runs tr[data-job="${blockedId}"]`);
      await row.waitFor();
      expect(await row.locator('td.state-blocked').textContent()).toMatch(/blocked: nothing applied/);
      // Its Updated column counts what the plan would do: alice at least, as many as it staged as updated.
      const planned = await host.models.stagedChanges.countDocuments({ jobId: blockedId, status: 'updated' });
      expect(planned).toBeGreaterThanOrEqual(1);
      expect(await row.locator('td').nth(6).textContent()).toBe(String(planned));
      await page.screenshot({ path: join(SCREENSHOTS, 'run-blocked.png'), fullPage: true });
      await page.getByRole('button', { name: `Review the plan of run ${blockedId}` }).click();
      await page.locator('table.plan tr[data-user="alice"]').waitFor();
      expect(await page.locator('.guard').textContent()).toMatch(
        /^1 of 3 users would lose values \(0 cleared\), 0 room memberships would end\. The guard allows/,
      );
      expect(await page.locator('table.plan tr[data-user="alice"]').textContent()).toMatch(
        /values changed.*retired: yes/,
      );
      await page.screenshot({ path: join(SCREENSHOTS, 'plan-review.png'), fullPage: true });
      expect(await host.models.users.countDocuments({ 'abacAttributes.key': 'retired' })).toBe(1);

      await page.getByRole('button', { name: 'Apply this plan' }).click();
      expect(await page.locator('.confirm').textContent()).toMatch(
        /made [^:]+ ago: 1 user loses values \(0 cleared\) and 0 room memberships end\?/,
      );
      await page.getByRole('button', { name: 'Yes, apply it' }).click();
      await page.locator('.followed[data-state="completed"]').waitFor({ timeout: 30_000 });
      expect(await host.models.users.countDocuments({ 'abacAttributes.key': 'retired' })).toBe(0);
      // The reviewed run now reads as applied, and its plan offers nothing more to apply.
      const applying = await page.locator('.followed').getAttribute('data-job');
      await row.locator(`text=applied in run ${applying}`).waitFor();
      await page.getByRole('button', { name: `Review the plan of run ${blockedId}` }).click();
      expect(await page.locator('.applied').textContent()).toBe(
        `Applied in run ${applying}: nothing more to apply.`,
      );
      expect(await page.getByRole('button', { name: 'Apply this plan' }).count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'plan-applied.png'), fullPage: true });
    } finally {
      await host.models.settings.deleteOne({ _id: 'ABAC_Sync_Guard_Min_Users' });
    }
  }, 90_000);

  it('pages a large plan with where each page sits, filters who loses a room whatever their status, and searches usernames', async () => {
    // A blocked feed batch of 120 users, staged as a run stages them; user ids run against username order.
    const jobs = new MongoSyncJobStore(host.models);
    const jobId = 'large-plan';
    const member = (index: number) => `member${String(index).padStart(3, '0')}`;
    await jobs.stage(
      Array.from({ length: 120 }, (_, index) => {
        const status = index % 3 === 0 ? 'cleared' : index % 5 === 0 ? 'unchanged' : 'updated';
        const leaves = status !== 'updated' || index % 7 === 0;
        return {
          jobId,
          userId: `u-${String(999 - index)}`,
          username: member(index),
          status,
          before: [{ key: 'department', values: ['old'] }],
          next: status === 'cleared' ? [] : [{ key: 'department', values: ['new'] }],
          ...(status === 'unchanged' ? {} : { removed: [{ key: 'department', values: ['old'] }] }),
          roomsRevoked: leaves ? [{ _id: 'r-old', name: 'old-team' }] : [],
        } as const;
      }),
    );
    const losing = Array.from({ length: 120 }, (_, index) => index).filter(
      (index) => index % 3 === 0 || index % 5 === 0 || index % 7 === 0,
    );
    await jobs.insertBlocked(
      {
        _id: jobId,
        trigger: 'feed',
        actor: { type: 'system', jobId },
        dryRun: false,
        createdAt: new Date(host.clock.now()),
      },
      {
        guard: {
          revokedUsers: 112,
          clearedUsers: 40,
          evictions: losing.length,
          usersInRun: 120,
          thresholdPercent: 10,
          thresholdUsers: 20,
        },
        planned: 120,
        at: new Date(host.clock.now()),
        settingsFingerprint: 'f',
      },
    );
    const page = await signedIn();
    await page.getByRole('button', { name: `Review the plan of run ${jobId}` }).click();
    const position = page.locator('.page-position');
    const usernames = () =>
      page
        .locator('table.plan tbody tr')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-user')));
    await position.getByText('1–50 of 120 · page 1 of 3').waitFor();
    expect(await usernames()).toEqual(Array.from({ length: 50 }, (_, index) => member(index)));
    expect(await page.getByRole('columnheader', { name: 'Rooms they would leave' }).count()).toBe(1);
    expect(await page.locator('table.plan tr[data-user="member000"]').textContent()).toMatch(
      /member000all values removeddepartment: oldold-team/,
    );
    // It takes values and rooms away: its apply is a danger button.
    expect(await page.getByRole('button', { name: 'Apply this plan' }).getAttribute('class')).toBe('danger');
    await page.getByRole('button', { name: 'Next page' }).click();
    await position.getByText('51–100 of 120 · page 2 of 3').waitFor();
    expect((await usernames())[0]).toBe(member(50));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await position.getByText('1–50 of 120 · page 1 of 3').waitFor();

    // Who loses a room, whatever their status: cleared, updated and unchanged users alike.
    await page.getByLabel('Show').selectOption({ label: 'loses a room' });
    await position.getByText(`1–50 of ${losing.length} · page 1 of 2`).waitFor();
    expect(await usernames()).toEqual(losing.slice(0, 50).map(member));
    expect(await page.locator('table.plan tr[data-user="member007"]').textContent()).toContain(
      'values changed',
    );
    expect(await page.locator('table.plan tr[data-user="member005"]').textContent()).toContain(
      'values unchanged',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'plan-loses-a-room.png'), fullPage: true });

    // Searched by the start of a username, ignoring case, within the filter.
    await page.getByLabel('Username starts with').fill('MEMBER10');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const expected = losing.filter((index) => index >= 100 && index < 110).map(member);
    await position.getByText(`1–${expected.length} of ${expected.length} · page 1 of 1`).waitFor();
    expect(await usernames()).toEqual(expected);
    await page.getByLabel('Username starts with').fill('nobody');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await position.getByText('Nothing matches').waitFor();
  }, 60_000);

  it('shows the changed-entries feed: off, then following once switched on', async () => {
    const page = await signedIn();
    await page.locator('dl.feed[data-state="off"]').waitFor();
    await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: true });
    try {
      const deadline = Date.now() + 20_000;
      for (;;) {
        await page.reload();
        const state = await page.locator('dl.feed').getAttribute('data-state', { timeout: 10_000 });
        if (state === 'following') break;
        if (Date.now() > deadline) throw new Error(`the feed card says ${state}`);
        await page.waitForTimeout(500);
      }
      expect(await page.locator('dl.feed').textContent()).toMatch(/Statefollowing.*polls every 2 s/);
      await page.screenshot({ path: join(SCREENSHOTS, 'feed.png'), fullPage: true });
    } finally {
      await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
    }
  }, 60_000);

  it('discards a blocked feed’s changes from the feed card after a confirmation, naming who did', async () => {
    const jobs = new MongoSyncJobStore(host.models);
    await jobs.insertBlocked(
      {
        _id: 'feed-blocked',
        trigger: 'feed',
        actor: { type: 'system', jobId: 'feed-blocked' },
        dryRun: false,
        createdAt: new Date(host.clock.now()),
      },
      {
        guard: {
          revokedUsers: 30,
          clearedUsers: 0,
          evictions: 30,
          usersInRun: 30,
          thresholdPercent: 10,
          thresholdUsers: 20,
        },
        planned: 30,
        at: new Date(host.clock.now()),
        settingsFingerprint: 'f',
      },
    );
    // What a poll leaves when the guard stops its changes.
    await host.models.feedState.deleteMany({});
    await host.models.feedState.create({
      _id: 'change-feed',
      changesApplied: 0,
      position: { watermark: '20261206120000Z', appliedAtWatermark: [] },
      blocked: { jobId: 'feed-blocked', position: { watermark: '20261206120100Z', appliedAtWatermark: [] } },
    });
    await setSettings(host.models, {
      ABAC_Sync_Change_Feed_Enabled: true,
      ABAC_Sync_Change_Feed_Interval_Seconds: 3600,
    });
    try {
      const page = await signedIn();
      await page.locator('dl.feed[data-state="blocked"]').waitFor();
      await page.getByRole('button', { name: 'Discard the blocked changes' }).click();
      expect(await page.locator('dl.feed .confirm').textContent()).toMatch(/applying nothing/);
      await page.getByRole('button', { name: 'Yes, discard them' }).click();
      await page.locator('dl.feed:not([data-state="blocked"])').waitFor();
      // Discarded; the feed's next poll, which may already have run, moves past the blocked changes.
      const feed = await host.models.feedState.findById('change-feed').lean();
      expect(
        feed?.blocked?.discarded === true ||
          (feed?.blocked === undefined && feed?.position?.watermark === '20261206120100Z'),
      ).toBe(true);
      expect((await host.models.syncJobs.findById('feed-blocked').lean())?.discardedBy).toEqual({
        type: 'user',
        _id: ADMIN_ID,
        username: 'root',
      });
    } finally {
      await setSettings(host.models, { ABAC_Sync_Change_Feed_Enabled: false });
      await host.models.settings.deleteOne({ _id: 'ABAC_Sync_Change_Feed_Interval_Seconds' });
      await host.models.feedState.deleteMany({});
    }
  }, 60_000);

  it('signs in from the demo’s link with one click, and takes the token out of the address bar', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${pageUrl}#${new URLSearchParams({ user: ADMIN_ID, token: ADMIN_TOKEN }).toString()}`);
    await page.getByRole('heading', { name: 'Sync users from the directory' }).waitFor();
    expect(page.url()).toBe(pageUrl);
    expect(await page.getByLabel('User id', { exact: true }).count()).toBe(0);
  }, 60_000);

  it('checks a sign-in once: a mistyped token is refused on the form and nothing reads with it', async () => {
    const page = await (await browser.newContext()).newPage();
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/abac/users/sync')) sent.push(request.url());
    });
    await page.goto(pageUrl);
    await page.getByLabel('User id').fill(ADMIN_ID);
    await page.getByLabel('Login token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/error-unauthorized.*Sign in again/);
    await page.screenshot({ path: join(SCREENSHOTS, 'error-401.png') });
    // Longer than the feed card's and the runs' reading intervals: nothing else was sent.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(sent.map((url) => new URL(url).pathname)).toEqual(['/api/v1/abac/users/sync/me']);
    expect(await page.getByRole('heading', { name: 'Sync users from the directory' }).count()).toBe(0);

    // The right token from the same tab is not held against the mistyped one.
    await page.getByLabel('Login token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sync users from the directory' }).waitFor();
    expect(await page.locator('.signed-in').textContent()).toMatch(/Signed in as root/);
  }, 60_000);

  it('signs out by itself when the server stops accepting the token, and stops reading', async () => {
    await host.models.users.create(
      userWithToken({
        _id: 'u-leaving',
        username: 'leaving',
        token: 'leaving-token',
        issuedAt: host.clock.now(),
      }),
    );
    const page = await signedIn('leaving-token', 'u-leaving');
    await page.getByRole('heading', { name: 'Sync users from the directory' }).waitFor();
    await host.models.users.updateOne({ _id: 'u-leaving' }, { $set: { 'services.resume.loginTokens': [] } });
    // The feed card reads every 5 s: its next read is refused, and the page goes back to the sign-in form.
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    expect(await page.getByRole('alert').textContent()).toMatch(/error-unauthorized/);
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/abac/users/sync')) sent.push(request.url());
    });
    await new Promise((resolve) => setTimeout(resolve, 6000));
    expect(sent).toEqual([]);
  }, 60_000);

  it('shows a user without the sync’s permissions the module’s 403 at sign-in, with what to do', async () => {
    await host.models.users.create(
      userWithToken({
        _id: 'u-member',
        username: 'member',
        token: 'member-token',
        issuedAt: host.clock.now(),
        roles: ['user'],
      }),
    );
    const page = await signedIn('member-token', 'u-member');
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/error-not-authorized.*lacks the permissions/);
    await page.screenshot({ path: join(SCREENSHOTS, 'error-403.png') });
  }, 60_000);

  it('refuses more than the route allows in the page, sending nothing', async () => {
    const page = await signedIn();
    const sent: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') sent.push(request.url());
    });
    await page
      .getByLabel(/Users, one per line/)
      .fill(Array.from({ length: 101 }, (_, i) => `user${i}`).join('\n'));
    expect(await page.getByText('101 usernames: at most 100 per request').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Preview', exact: true }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Apply the preview' }).isDisabled()).toBe(true);
    expect(sent).toEqual([]);
  }, 60_000);

  it('fits a phone’s width: wide tables scroll inside their card, never the page', async () => {
    const page = await (await browser.newContext({ viewport: { width: 375, height: 812 } })).newPage();
    await page.goto(pageUrl);
    await page.getByLabel('User id').fill(ADMIN_ID);
    await page.getByLabel('Login token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // How far the page scrolls sideways (run in the page, where `document` is the page's).
    const sideways = () =>
      page.evaluate(() => {
        const root = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
          }
        ).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
    await page.locator('table.runs').waitFor();
    expect(await sideways()).toBe(0);
    await page.getByLabel(/Users, one per line/).fill('alice\nbob');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('tr[data-user="bob"]').waitFor();
    expect(await sideways()).toBe(0);
    await page.getByRole('button', { name: 'Review the plan of run large-plan' }).click();
    await page.locator('table.plan tbody tr').first().waitFor();
    expect(await sideways()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
  }, 60_000);

  it('has no serious or critical accessibility violations (axe-core) on the sign-in, sync, runs, feed and plan views', async () => {
    // axe is injected as a script, which the page's own policy rightly forbids: this context bypasses it.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const violations = async () => {
      await page.addScriptTag({ content: AXE });
      const results = (await page.evaluate(() =>
        (globalThis as unknown as { axe: { run: () => Promise<unknown> } }).axe.run(),
      )) as { violations: { id: string; impact: string }[] };
      return results.violations.filter((violation) => ['serious', 'critical'].includes(violation.impact));
    };
    await page.goto(pageUrl);
    expect(await violations()).toEqual([]);
    await page.getByLabel('User id').fill(ADMIN_ID);
    await page.getByLabel('Login token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel(/Users, one per line/).fill('alice');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('tr[data-user="alice"]').waitFor();
    // The sync's report, the runs and the feed's card are on this view.
    await page.locator('dl.feed').waitFor();
    expect(await violations()).toEqual([]);
    // A kept plan under review.
    await page.getByRole('button', { name: 'Start a dry run' }).click();
    const followed = page.locator('.followed[data-state="completed"]');
    await followed.waitFor({ timeout: 30_000 });
    await page
      .getByRole('button', { name: `Review the plan of run ${await followed.getAttribute('data-job')}` })
      .click();
    await page.locator('table.plan').waitFor();
    expect(await violations()).toEqual([]);
  }, 90_000);
  it('undoes a sync from its result: the plan opens for review, names who gets which rooms back, and applies', async () => {
    // alice as before the first test's sync: in sales, with the subscription the chat server keeps.
    await host.models.users.updateOne(
      { _id: 'u-alice' },
      { $set: { abacAttributes: [{ key: 'department', values: ['sales'] }], __rooms: ['r-sales'] } },
    );
    // A subscription of its own: the chat server never gives two subscriptions the same id.
    const subscription = {
      _id: 's-alice-again',
      rid: 'r-sales',
      u: { _id: 'u-alice', username: 'alice' },
      unread: 7,
    };
    await host.models.subscriptions.collection.insertOne(subscription as never);
    const inSales = async () =>
      (await host.models.subscriptions.countDocuments({ _id: 's-alice-again' })) === 1;
    expect(await inSales()).toBe(true);
    // What the room counts before the sync ends the membership, and again once the undo gives it back.
    const usersCount = (await host.models.rooms.findById('r-sales').lean())!.usersCount ?? 0;
    const page = await signedIn();
    await page.getByLabel(/Users, one per line/).fill('alice');
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('tr[data-user="alice"]').waitFor();
    await page.getByRole('button', { name: 'Apply the preview' }).click();
    await page.getByRole('button', { name: 'Yes, apply it' }).click();
    await page.getByRole('heading', { name: 'Applied' }).waitFor();
    expect(await inSales()).toBe(false);

    await page.getByRole('button', { name: 'Undo this sync' }).click();
    // The runs list follows the run that plans it, and opens the plan once made; nothing is undone yet.
    await page.locator('table.plan tr[data-user="alice"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('#plan-title').textContent()).toMatch(/Undo of page-[0-9a-f]{24}/);
    expect(await page.locator('.by-room').textContent()).toContain('sales: 1 membership comes back');
    expect(await page.getByRole('columnheader', { name: 'Rooms they get back' }).count()).toBe(1);
    expect(await page.locator('table.plan tr[data-user="alice"]').textContent()).toMatch(/sales$/);
    expect(await inSales()).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, 'undo-review.png'), fullPage: true });

    const planning = await page.locator('.followed').getAttribute('data-job');
    await page.getByRole('button', { name: 'Apply this undo' }).click();
    expect(await page.locator('.confirm').textContent()).toMatch(
      /Apply this undo, made [^:]+ ago:\s*1 user goes back to their earlier values; alice gets sales back\?/,
    );
    await page.getByRole('button', { name: 'Yes, apply it' }).click();
    // The run that applies it, not the one that planned it (still shown until the apply's is read).
    await page
      .locator(`.followed[data-state="completed"]:not([data-job="${planning}"])`)
      .waitFor({ timeout: 30_000 });
    const restored = await host.models.subscriptions.collection.findOne({ _id: 's-alice-again' as never });
    expect(restored).toMatchObject(subscription);
    expect((await host.models.rooms.findById('r-sales').lean())!.usersCount).toBe(usersCount);
    expect((await host.models.users.findById('u-alice').lean())!.abacAttributes).toEqual([
      { key: 'department', values: ['sales'] },
    ]);
    // Every applied run offers its own undo.
    const applying = await page.locator('.followed').getAttribute('data-job');
    expect(await page.getByRole('button', { name: `Undo run ${applying}` }).count()).toBe(1);
  }, 90_000);
});
