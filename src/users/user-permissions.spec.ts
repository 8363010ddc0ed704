import {
  Actor,
  bumpsTokenVersion,
  canView,
  checkActOn,
  checkCreate,
  checkDelete,
  checkUpdate,
  exportScope,
  hidesIdOf,
  Target,
} from './user-permissions';
import { ActiveStatus, Organization, Role, UserState } from './user.enums';

let n = 0;
function user(
  role: Role,
  organization: Organization | null = Organization.DEV,
  active = ActiveStatus.ACTIVE,
): Actor & Target {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    role,
    organization,
    active,
  };
}

const adm = () => user(Role.ADM, null);
const president = (org: Organization | null = Organization.DEV) => user(Role.PRESIDENT, org);
const plain = (org: Organization | null = Organization.DEV) => user(Role.USER, org);

describe('user permission rules', () => {
  describe('acting on yourself', () => {
    it.each([Role.ADM, Role.PRESIDENT, Role.USER])('is allowed for a %s', (role) => {
      const me = user(role);
      expect(checkActOn(me, me)).toBeNull();
      expect(canView(me, me)).toBe(true);
      expect(checkDelete(me, me)).toBeNull();
      expect(
        checkUpdate(me, me, { name: 'New Name', course: 'CIC', year: 2, ra: '21.01234-5' }),
      ).toBeNull();
    });

    it('is allowed even for a caller that is not ACTIVE (the guard decides who gets in)', () => {
      const me = user(Role.USER, Organization.DEV, ActiveStatus.DISCONNECTED);
      expect(checkActOn(me, me)).toBeNull();
    });

    it.each([Role.ADM, Role.PRESIDENT, Role.USER])('nobody changes their own role (%s)', (role) => {
      const me = user(role);
      expect(checkUpdate(me, me, { role: Role.USER })).toMatchObject({ code: 'own_role_change' });
    });

    it('only ADM changes their own organization', () => {
      const a = adm();
      expect(checkUpdate(a, a, { organization: Organization.NAWAT })).toBeNull();
      for (const me of [president(), plain()]) {
        expect(checkUpdate(me, me, { organization: Organization.NAWAT })).toMatchObject({
          code: 'organization_change',
        });
        expect(checkUpdate(me, me, { organization: null })).toMatchObject({
          code: 'organization_change',
        });
      }
    });

    it('only ADM sets their own password through PATCH', () => {
      const a = adm();
      expect(checkUpdate(a, a, { password: 'a-long-enough-password' })).toBeNull();
      for (const me of [president(), plain()]) {
        expect(checkUpdate(me, me, { password: 'a-long-enough-password' })).toMatchObject({
          code: 'password_change',
        });
      }
    });

    it('only ADM changes their own approval state', () => {
      const a = adm();
      expect(checkUpdate(a, a, { state: UserState.APPROVED })).toBeNull();
      for (const me of [president(), plain()]) {
        expect(checkUpdate(me, me, { state: UserState.APPROVED })).toMatchObject({
          code: 'own_state_change',
        });
      }
    });

    it('anyone may deactivate themselves', () => {
      const me = plain();
      expect(checkUpdate(me, me, { active: ActiveStatus.DISCONNECTED })).toBeNull();
    });
  });

  describe('acting on others', () => {
    it('needs an ACTIVE caller, whatever the role', () => {
      for (const role of [Role.ADM, Role.PRESIDENT, Role.USER]) {
        const caller = user(role, Organization.DEV, ActiveStatus.FREEZED);
        const target = plain();
        expect(checkActOn(caller, target)).toMatchObject({ code: 'inactive_caller' });
        expect(checkDelete(caller, target)).toMatchObject({ code: 'inactive_caller' });
        expect(checkUpdate(caller, target, { name: 'X Y' })).toMatchObject({
          code: 'inactive_caller',
        });
        expect(canView(caller, target)).toBe(false);
      }
      const disconnectedAdm = user(Role.ADM, null, ActiveStatus.DISCONNECTED);
      expect(checkCreate(disconnectedAdm, { role: Role.USER, organization: null })).toMatchObject({
        code: 'inactive_caller',
      });
    });

    describe('ADM', () => {
      it('may act on anyone: USERs, PRESIDENTs of any org, other ADMs', () => {
        const a = adm();
        for (const target of [plain(), plain(Organization.NAWAT), president(), adm()]) {
          expect(checkActOn(a, target)).toBeNull();
          expect(canView(a, target)).toBe(true);
          expect(checkDelete(a, target)).toBeNull();
          expect(
            checkUpdate(a, target, {
              name: 'Renamed',
              organization: Organization.ESPORTS,
              state: UserState.REJECTED,
              active: ActiveStatus.FREEZED,
              password: 'a-long-enough-password',
            }),
          ).toBeNull();
        }
      });

      it("may change the role of a USER or PRESIDENT but not another ADM's", () => {
        const a = adm();
        expect(checkUpdate(a, plain(), { role: Role.PRESIDENT })).toBeNull();
        expect(checkUpdate(a, president(), { role: Role.ADM })).toBeNull();
        expect(checkUpdate(a, adm(), { role: Role.USER })).toMatchObject({
          code: 'admin_role_change',
        });
      });

      it('may create any user', () => {
        const a = adm();
        for (const role of [Role.ADM, Role.PRESIDENT, Role.USER]) {
          expect(checkCreate(a, { role, organization: Organization.NAWAT })).toBeNull();
          expect(checkCreate(a, { role, organization: null })).toBeNull();
        }
      });
    });

    describe('PRESIDENT', () => {
      it('may act on USERs of its own organization', () => {
        const p = president(Organization.DEV);
        const target = plain(Organization.DEV);
        expect(checkActOn(p, target)).toBeNull();
        expect(canView(p, target)).toBe(true);
        expect(checkDelete(p, target)).toBeNull();
        expect(
          checkUpdate(p, target, {
            name: 'Renamed',
            course: 'ECM',
            year: 3,
            ra: '21012345',
            state: UserState.APPROVED,
            active: ActiveStatus.DISCONNECTED,
          }),
        ).toBeNull();
      });

      it.each([
        ['a USER of another organization', () => plain(Organization.NAWAT)],
        ['a USER without an organization', () => plain(null)],
        ['a PRESIDENT of its own organization', () => president(Organization.DEV)],
        ['an ADM', () => adm()],
      ])('may not act on %s', (_label, make) => {
        const p = president(Organization.DEV);
        const target = make();
        expect(checkActOn(p, target)).toMatchObject({ code: 'outside_organization' });
        expect(canView(p, target)).toBe(false);
        expect(checkDelete(p, target)).toMatchObject({ code: 'outside_organization' });
        expect(checkUpdate(p, target, { name: 'X Y' })).toMatchObject({
          code: 'outside_organization',
        });
      });

      it('without an organization acts on nobody but itself', () => {
        const p = president(null);
        expect(checkActOn(p, plain(null))).toMatchObject({ code: 'outside_organization' });
        expect(checkCreate(p, { role: Role.USER, organization: null })).toMatchObject({
          code: 'outside_organization',
        });
      });

      it("may not change a USER's role or organization, nor set a password", () => {
        const p = president(Organization.DEV);
        const target = plain(Organization.DEV);
        expect(checkUpdate(p, target, { role: Role.PRESIDENT })).toMatchObject({
          code: 'role_not_allowed',
        });
        expect(checkUpdate(p, target, { role: Role.ADM })).toMatchObject({
          code: 'role_not_allowed',
        });
        expect(checkUpdate(p, target, { organization: Organization.NAWAT })).toMatchObject({
          code: 'organization_change',
        });
        expect(checkUpdate(p, target, { password: 'a-long-enough-password' })).toMatchObject({
          code: 'password_change',
        });
      });

      it('may create only USERs of its own organization', () => {
        const p = president(Organization.NAWAT);
        expect(checkCreate(p, { role: Role.USER, organization: Organization.NAWAT })).toBeNull();
        expect(checkCreate(p, { role: Role.USER, organization: Organization.DEV })).toMatchObject({
          code: 'outside_organization',
        });
        expect(checkCreate(p, { role: Role.USER, organization: null })).toMatchObject({
          code: 'outside_organization',
        });
        expect(
          checkCreate(p, { role: Role.PRESIDENT, organization: Organization.NAWAT }),
        ).toMatchObject({ code: 'role_not_allowed' });
        expect(checkCreate(p, { role: Role.ADM, organization: Organization.NAWAT })).toMatchObject({
          code: 'role_not_allowed',
        });
      });
    });

    describe('USER', () => {
      it('may not act on anybody else, even of its own organization', () => {
        const u = plain(Organization.DEV);
        for (const target of [plain(Organization.DEV), president(), adm()]) {
          expect(checkActOn(u, target)).toMatchObject({ code: 'cannot_act_on_others' });
          expect(canView(u, target)).toBe(false);
          expect(checkDelete(u, target)).toMatchObject({ code: 'cannot_act_on_others' });
          expect(checkUpdate(u, target, { name: 'X Y' })).toMatchObject({
            code: 'cannot_act_on_others',
          });
        }
      });

      it('may not create users', () => {
        expect(
          checkCreate(plain(), { role: Role.USER, organization: Organization.DEV }),
        ).toMatchObject({ code: 'cannot_act_on_others' });
      });
    });
  });

  describe('export', () => {
    it('ADM: everyone, or the organization it names', () => {
      expect(exportScope(adm(), undefined)).toEqual({ organization: undefined });
      expect(exportScope(adm(), Organization.NAWAT)).toEqual({ organization: Organization.NAWAT });
    });

    it('PRESIDENT: its own organization, named or not; never another', () => {
      expect(exportScope(president(Organization.DEV), undefined)).toEqual({
        organization: Organization.DEV,
      });
      expect(exportScope(president(Organization.DEV), Organization.DEV)).toEqual({
        organization: Organization.DEV,
      });
      expect(exportScope(president(Organization.DEV), Organization.NAWAT)).toMatchObject({
        code: 'outside_organization',
      });
      expect(exportScope(president(null), undefined)).toMatchObject({
        code: 'outside_organization',
      });
    });

    it('USER and inactive callers: no', () => {
      expect(exportScope(plain(), Organization.DEV)).toMatchObject({
        code: 'cannot_act_on_others',
      });
      expect(exportScope(user(Role.ADM, null, ActiveStatus.DISCONNECTED), undefined)).toMatchObject(
        { code: 'inactive_caller' },
      );
    });
  });

  describe('ids in lists', () => {
    it('are hidden from a USER except its own', () => {
      const u = plain();
      expect(hidesIdOf(u, u)).toBe(false);
      expect(hidesIdOf(u, plain())).toBe(true);
      expect(hidesIdOf(u, adm())).toBe(true);
    });

    it('are shown to ADM and PRESIDENT', () => {
      expect(hidesIdOf(adm(), plain())).toBe(false);
      expect(hidesIdOf(president(), adm())).toBe(false);
    });
  });

  describe('token version', () => {
    it('is bumped by a role change, a password change or a deactivation', () => {
      expect(bumpsTokenVersion({ role: Role.PRESIDENT })).toBe(true);
      expect(bumpsTokenVersion({ password: 'a-long-enough-password' })).toBe(true);
      expect(bumpsTokenVersion({ active: ActiveStatus.DISCONNECTED })).toBe(true);
      expect(bumpsTokenVersion({ active: ActiveStatus.FREEZED })).toBe(true);
    });

    it('is kept by other changes, including a reactivation', () => {
      expect(bumpsTokenVersion({})).toBe(false);
      expect(bumpsTokenVersion({ name: 'New', organization: Organization.DEV })).toBe(false);
      expect(bumpsTokenVersion({ state: UserState.APPROVED, year: 2 })).toBe(false);
      expect(bumpsTokenVersion({ active: ActiveStatus.ACTIVE })).toBe(false);
    });
  });
});
