import { credentialsFromLink, mountOf } from '../../admin/links';

// The admin page's link handling (pure).

describe('credentialsFromLink', () => {
  it('reads the demo link’s user and token only when the host allows it', () => {
    expect(credentialsFromLink('#user=u-admin&token=t%2B1', true)).toEqual({
      userId: 'u-admin',
      token: 't+1',
    });
    expect(credentialsFromLink('#user=u-admin&token=t', false)).toBeUndefined();
    expect(credentialsFromLink('#user=u-admin', true)).toBeUndefined();
    expect(credentialsFromLink('', true)).toBeUndefined();
  });
});

describe('mountOf', () => {
  it('is the path before /abac/admin', () => {
    expect(mountOf('/api/v1/abac/admin')).toBe('/api/v1');
    expect(mountOf('/abac/admin/')).toBe('');
  });
});
