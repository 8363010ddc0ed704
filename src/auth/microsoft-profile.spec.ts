import {
  isEmailDomainAllowed,
  nameForProfile,
  parseGraphProfile,
  raFromEmail,
} from './microsoft-profile';

describe('parseGraphProfile', () => {
  const id = '2f4a8d1e-0000-4c1b-9a57-9d2f6c0f1a11';

  it('uses mail, lower-cased', () => {
    expect(
      parseGraphProfile({
        id,
        displayName: 'Ana Lima',
        mail: 'Ana.Lima@Maua.br',
        userPrincipalName: 'other@maua.br',
      }),
    ).toEqual({ id, email: 'ana.lima@maua.br', displayName: 'Ana Lima' });
  });

  it('falls back to userPrincipalName when mail is null or empty', () => {
    expect(
      parseGraphProfile({ id, displayName: null, mail: null, userPrincipalName: 'X@Maua.br' }),
    ).toEqual({ id, email: 'x@maua.br', displayName: null });
    expect(parseGraphProfile({ id, mail: '', userPrincipalName: 'y@maua.br' })?.email).toBe(
      'y@maua.br',
    );
  });

  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['an array', [1]],
    ['no id', { mail: 'a@maua.br' }],
    ['a numeric id', { id: 5, mail: 'a@maua.br' }],
    ['an id too long', { id: 'x'.repeat(65), mail: 'a@maua.br' }],
    ['no address at all', { id, mail: null, userPrincipalName: null }],
    ['an address that is not an email', { id, mail: 'not-an-email' }],
  ])('refuses %s', (_what, body) => {
    expect(parseGraphProfile(body)).toBeNull();
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
