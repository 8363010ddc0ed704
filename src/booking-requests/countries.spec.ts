import { COUNTRY_NAMES, countryKey, normalizeCountry } from './countries';

describe('normalizeCountry', () => {
  it.each([
    ['USA', 'United States'],
    ['US', 'United States'],
    ['us', 'United States'],
    ['usa', 'United States'],
    ['U.S.A.', 'United States'],
    ['United States of America', 'United States'],
    ['united states', 'United States'],
    ['JP', 'Japan'],
    ['jpn', 'Japan'],
    ['Japan', 'Japan'],
    ['brazil', 'Brazil'],
    ['BR', 'Brazil'],
    ['BRA', 'Brazil'],
    ['Brasil', 'Brazil'],
    ['  Brazil  ', 'Brazil'],
    ['GB', 'United Kingdom'],
    ['UK', 'United Kingdom'],
    ["Cote d'Ivoire", "Côte d'Ivoire"],
    ['Ivory Coast', "Côte d'Ivoire"],
    ['South Korea', 'Korea, Republic of'],
    ['KOR', 'Korea, Republic of'],
    ['Czech Republic', 'Czechia'],
    ['DE', 'Germany'],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeCountry(input)).toBe(expected);
  });

  it.each(['', '   ', 'Atlantis', 'XX', 'XYZ', 'Korea', 'U', '12'])('does not know %j', (input) => {
    expect(normalizeCountry(input)).toBeUndefined();
  });

  it('holds every ISO 3166-1 country once, each name its own key', () => {
    expect(COUNTRY_NAMES.size).toBe(249);
    for (const name of COUNTRY_NAMES) expect(normalizeCountry(name)).toBe(name);
  });

  it('compares without case, accents or punctuation', () => {
    expect(countryKey("Côte d'Ivoire")).toBe('cotedivoire');
    expect(countryKey('Guinea-Bissau')).toBe(countryKey('guinea bissau'));
  });
});
