import { Organization, Role } from '../users/user.enums';
import { canSeeWarning, isAddressedTo, isExpired, WarningTarget } from './warning-visibility';

const now = new Date('2030-01-01T12:00:00Z');
const later = new Date('2030-01-02T00:00:00Z');

function warning(
  targetRole: Role,
  targetOrg: Organization | null,
  expiresAt = later,
): WarningTarget {
  return { targetRole, targetOrg, expiresAt };
}

describe('warning visibility', () => {
  const devPresident = { role: Role.PRESIDENT, organization: Organization.DEV };

  it('addresses a user of the target role in the target organization', () => {
    expect(isAddressedTo(warning(Role.PRESIDENT, Organization.DEV), devPresident)).toBe(true);
  });

  it('null and ALL address every organization of the role, also a user without one', () => {
    for (const org of [null, Organization.ALL]) {
      expect(isAddressedTo(warning(Role.PRESIDENT, org), devPresident)).toBe(true);
      expect(
        isAddressedTo(warning(Role.PRESIDENT, org), { role: Role.PRESIDENT, organization: null }),
      ).toBe(true);
    }
  });

  it('does not address another organization or another role', () => {
    expect(isAddressedTo(warning(Role.PRESIDENT, Organization.NAWAT), devPresident)).toBe(false);
    expect(isAddressedTo(warning(Role.USER, Organization.DEV), devPresident)).toBe(false);
    expect(isAddressedTo(warning(Role.USER, null), devPresident)).toBe(false);
    expect(
      isAddressedTo(warning(Role.PRESIDENT, Organization.DEV), {
        role: Role.PRESIDENT,
        organization: null,
      }),
    ).toBe(false);
  });

  it('expires at its expires_at instant', () => {
    expect(isExpired({ expiresAt: now }, now)).toBe(true);
    expect(isExpired({ expiresAt: new Date(now.getTime() + 1) }, now)).toBe(false);
  });

  it('an ADM sees every unexpired warning, whatever it targets', () => {
    const adm = { role: Role.ADM, organization: null };
    expect(canSeeWarning(warning(Role.USER, Organization.NAWAT), adm, now)).toBe(true);
    expect(canSeeWarning(warning(Role.PRESIDENT, null), adm, now)).toBe(true);
  });

  it('nobody sees an expired warning, not even an ADM or its audience', () => {
    const expired = warning(Role.PRESIDENT, Organization.DEV, now);
    expect(canSeeWarning(expired, { role: Role.ADM, organization: null }, now)).toBe(false);
    expect(canSeeWarning(expired, devPresident, now)).toBe(false);
  });

  it('others see only what is addressed to them', () => {
    expect(canSeeWarning(warning(Role.PRESIDENT, Organization.DEV), devPresident, now)).toBe(true);
    expect(canSeeWarning(warning(Role.PRESIDENT, Organization.GUARDIAN), devPresident, now)).toBe(
      false,
    );
  });
});
