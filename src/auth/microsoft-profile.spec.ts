import {
  emailFromClaims,
  isEmailDomainAllowed,
  isEmailDomainListed,
  nameForProfile,
  raFromEmail,
} from './microsoft-profile';

describe('emailFromClaims', () => {
  it('uses email, lower-cased and trimmed', () => {
    expect(
      emailFromClaims({ email: ' Ana.Lima@Maua.br ', preferred_username: 'other@maua.br' }),
    ).toBe('ana.lima@maua.br');
  });

  it('falls back to preferred_username when email is missing, empty or not an address', () => {
    expect(emailFromClaims({ preferred_username: 'X@Maua.br' })).toBe('x@maua.br');
    expect(emailFromClaims({ email: '', preferred_username: 'y@maua.br' })).toBe('y@maua.br');
    expect(emailFromClaims({ email: 'nope', preferred_username: 'z@maua.br' })).toBe('z@maua.br');
    expect(emailFromClaims({ email: 42, preferred_username: 'w@maua.br' })).toBe('w@maua.br');
  });

  it.each([
    ['no claim', {}],
    ['a user name that is not an address', { preferred_username: 'ana' }],
    ['an address too long', { email: `${'a'.repeat(320)}@maua.br` }],
    ['not strings', { email: ['a@maua.br'], preferred_username: { a: 1 } }],
  ])('null for %s', (_what, claims) => {
    expect(emailFromClaims(claims)).toBeNull();
  });
});

describe('raFromEmail', () => {
  it('reads NN.NNNNN-N from a student address', () => {
    expect(raFromEmail('21.01234-5@maua.br')).toBe('21.01234-5');
  });
  it.each(['ana.lima@maua.br', '2101234-5@maua.br', '21.012345-5@maua.br', 'x21.01234-5@maua.br'])(
    'null for %s',
    (email) => {
      expect(raFromEmail(email)).toBeNull();
    },
  );
});

describe('nameForProfile', () => {
  it('prefers the display name, trimmed', () => {
    expect(nameForProfile({ email: 'a@maua.br', displayName: '  Ana Lima ' })).toBe('Ana Lima');
  });
  it('falls back to the local part, then to the address, to reach two characters', () => {
    expect(nameForProfile({ email: 'ana@maua.br', displayName: 'A' })).toBe('ana');
    expect(nameForProfile({ email: 'a@maua.br', displayName: null })).toBe('a@maua.br');
  });
  it('cuts at 200 characters', () => {
    expect(nameForProfile({ email: 'a@maua.br', displayName: 'n'.repeat(300) })).toHaveLength(200);
  });
});

describe('isEmailDomainAllowed', () => {
  it('allows any domain without a list', () => {
    expect(isEmailDomainAllowed('a@anything.com', [])).toBe(true);
  });
  it('matches the domain exactly', () => {
    expect(isEmailDomainAllowed('a@maua.br', ['maua.br'])).toBe(true);
    expect(isEmailDomainAllowed('a@evil-maua.br', ['maua.br'])).toBe(false);
    expect(isEmailDomainAllowed('a@sub.maua.br', ['maua.br'])).toBe(false);
    expect(isEmailDomainAllowed('a@maua.br.evil.com', ['maua.br'])).toBe(false);
  });
});

describe('isEmailDomainListed', () => {
  it('lists nothing without a list', () => {
    expect(isEmailDomainListed('a@anything.com', [])).toBe(false);
  });
  it('matches the domain exactly', () => {
    expect(isEmailDomainListed('a@maua.br', ['maua.br'])).toBe(true);
    expect(isEmailDomainListed('a@sub.maua.br', ['maua.br'])).toBe(false);
    expect(isEmailDomainListed('a@maua.br.evil.com', ['maua.br'])).toBe(false);
  });
});
