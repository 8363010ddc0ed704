import { Organization, Role } from '../../users/user.enums';
import { WarningEventKind } from '../entities/warning-event.entity';
import {
  callerAudienceKeys,
  deliveryFor,
  eventAudienceKeys,
  hasResumeGap,
  parseLastEventId,
  sseEventId,
  sseMessage,
  StoredWarningEvent,
} from './warning-events';

const now = new Date('2030-01-01T12:00:00Z');
const W = '6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f';

function event(overrides: Partial<StoredWarningEvent> = {}): StoredWarningEvent {
  return {
    id: 42,
    warningId: W,
    kind: WarningEventKind.CREATED,
    targetRole: Role.USER,
    targetOrg: Organization.DEV,
    previousRole: null,
    previousOrg: null,
    payload: {
      id: W,
      target_role: Role.USER,
      target_org: Organization.DEV,
      expires_at: '2030-01-02T00:00:00.000Z',
    },
    ...overrides,
  };
}

const devUser = { role: Role.USER, organization: Organization.DEV };
const nawatUser = { role: Role.USER, organization: Organization.NAWAT };
const devPresident = { role: Role.PRESIDENT, organization: Organization.DEV };
const adm = { role: Role.ADM, organization: null };

describe('deliveryFor (GET /warnings/stream, one event, one caller)', () => {
  it('a created or changed warning goes to its audience and to ADMs, as `warning`', () => {
    for (const kind of [WarningEventKind.CREATED, WarningEventKind.UPDATED]) {
      expect(deliveryFor(event({ kind }), devUser, now)?.event).toBe('warning');
      expect(deliveryFor(event({ kind }), adm, now)?.event).toBe('warning');
      expect(deliveryFor(event({ kind }), nawatUser, now)).toBeNull();
      expect(deliveryFor(event({ kind }), devPresident, now)).toBeNull();
    }
  });

  it('a change that moves the warning away tells the old audience `warning-removed` (retargeted)', () => {
    const moved = event({
      kind: WarningEventKind.UPDATED,
      targetRole: Role.PRESIDENT,
      targetOrg: null,
      previousRole: Role.USER,
      previousOrg: Organization.DEV,
      payload: { ...event().payload!, target_role: Role.PRESIDENT, target_org: null },
    });
    expect(deliveryFor(moved, devUser, now)).toEqual({
      event: 'warning-removed',
      data: { id: W, reason: 'retargeted' },
    });
    expect(deliveryFor(moved, devPresident, now)?.event).toBe('warning');
    expect(deliveryFor(moved, nawatUser, now)).toBeNull();
  });

  it('deletion and expiry go to whoever could see it, as `warning-removed` with the reason', () => {
    for (const kind of [WarningEventKind.DELETED, WarningEventKind.EXPIRED] as const) {
      const e = event({ kind, payload: null });
      expect(deliveryFor(e, devUser, now)).toEqual({
        event: 'warning-removed',
        data: { id: W, reason: kind },
      });
      expect(deliveryFor(e, adm, now)?.event).toBe('warning-removed');
      expect(deliveryFor(e, nawatUser, now)).toBeNull();
    }
  });

  it('a change replayed after the warning expired is skipped (its `expired` event follows)', () => {
    const later = new Date('2030-01-03T00:00:00Z');
    expect(deliveryFor(event(), devUser, later)).toBeNull();
    expect(deliveryFor(event(), adm, later)).toBeNull();
  });
});

describe('event ids and resumption', () => {
  it('`id:` is the position and the warning; both forms parse back', () => {
    expect(sseEventId(event())).toBe(`42.${W}`);
    expect(parseLastEventId(`42.${W}`)).toEqual({ position: 42, warningId: W });
    expect(parseLastEventId(`42.${W.toUpperCase()}`)).toEqual({ position: 42, warningId: W });
    expect(parseLastEventId(' 7 ')).toEqual({ position: 7 });
    for (const bad of ['', 'x', '-1', '1.2', `42.${W}x`, '1'.repeat(16), '4 2']) {
      expect(parseLastEventId(bad)).toBeUndefined();
    }
  });

  it('a purged event counts against exactly the callers who would have received it', () => {
    expect(eventAudienceKeys(Role.USER, null)).toEqual(['*', 'USER:*']);
    expect(eventAudienceKeys(Role.USER, Organization.ALL)).toEqual(['*', 'USER:*']);
    expect(callerAudienceKeys(devUser)).toEqual(['USER:*', 'USER:DEV']);
    expect(callerAudienceKeys(adm)).toEqual(['*']);
    const purged = { '*': 50, 'USER:DEV': 50, 'PRESIDENT:*': 30 };
    expect(hasResumeGap(purged, devUser, 40)).toBe(true);
    expect(hasResumeGap(purged, devUser, 50)).toBe(false);
    expect(hasResumeGap(purged, nawatUser, 40)).toBe(false);
    expect(hasResumeGap(purged, devPresident, 20)).toBe(true);
    expect(hasResumeGap(purged, adm, 49)).toBe(true);
  });

  it('an SSE message is one block, data on one line', () => {
    expect(sseMessage('warning', { a: 'x\ny' }, '1')).toBe(
      'event: warning\nid: 1\ndata: {"a":"x\\ny"}\n\n',
    );
    expect(sseMessage('closed', { reason: 'unauthorized' })).toBe(
      'event: closed\ndata: {"reason":"unauthorized"}\n\n',
    );
  });
});
