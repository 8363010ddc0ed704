import { isIsoDate, isIsoDateTime } from './iso-date-time.validator';

describe('ISO 8601 checks', () => {
  it.each([
    '2030-01-31T14:00:00Z',
    '2030-01-31T14:00Z',
    '2030-01-31T14:00:00.123Z',
    '2030-01-31T11:00:00-03:00',
    '2030-01-31T11:00:00+0530',
  ])('accepts the date-time %s', (v) => {
    expect(isIsoDateTime(v)).toBe(true);
  });

  it.each([
    '2030-01-31',
    '2030-01-31T14:00:00',
    '2030-02-30T00:00:00Z',
    '2030-01-31 14:00:00Z',
    'tomorrow',
    '',
    1896098400000,
    null,
  ])('refuses the date-time %j', (v) => {
    expect(isIsoDateTime(v)).toBe(false);
  });

  it('knows dates', () => {
    expect(isIsoDate('2030-01-31')).toBe(true);
    expect(isIsoDate('2030-02-30')).toBe(false);
    expect(isIsoDate('2030-01-31T00:00:00Z')).toBe(false);
  });
});
