import { jsonNestingExceeds } from './json-body';

describe('jsonNestingExceeds', () => {
  it('counts object and array levels', () => {
    expect(jsonNestingExceeds('{"a":{"b":[1,2,{"c":3}]}}', 4)).toBe(false);
    expect(jsonNestingExceeds('{"a":{"b":[1,2,{"c":3}]}}', 3)).toBe(true);
    expect(jsonNestingExceeds('[[]]', 2)).toBe(false);
    expect(jsonNestingExceeds('[[[]]]', 2)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestingExceeds('{"a":"[[[[{{{{"}', 1)).toBe(false);
    expect(jsonNestingExceeds('{"a":"\\"[[[[","b":1}', 1)).toBe(false);
    expect(jsonNestingExceeds('{"a":"\\\\","b":[[1]]}', 2)).toBe(true);
  });

  it('handles siblings: depth goes back down', () => {
    expect(jsonNestingExceeds('[' + '[1],'.repeat(1000) + '[2]]', 2)).toBe(false);
  });

  it('finds a 20,000-deep body quickly', () => {
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    expect(jsonNestingExceeds(deep, 32)).toBe(true);
  });
});
