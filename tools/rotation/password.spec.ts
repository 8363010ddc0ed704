import { generatePassword, PASSWORD_CLASSES, PASSWORD_LENGTH } from './password';

describe('generatePassword', () => {
  it('is 32 characters with every class, and never the same twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(PASSWORD_LENGTH);
      expect(p).toMatch(/^[A-Za-z0-9!#%+\-.:=?@^_~]+$/);
      for (const cls of PASSWORD_CLASSES) expect([...p].some((c) => cls.includes(c))).toBe(true);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });

  it('uses the whole alphabet', () => {
    const chars = new Set([...Array.from({ length: 100 }, () => generatePassword()).join('')]);
    expect(chars.size).toBe(PASSWORD_CLASSES.join('').length);
  });

  it('refuses a length that cannot hold every class', () => {
    expect(() => generatePassword(3)).toThrow();
  });
});
