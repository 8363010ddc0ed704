import { isEmailDomainAllowed, raFromEmail, resolveRa } from './user-email-rules';

describe('user email rules', () => {
  it('reads the RA of a student address only', () => {
    expect(raFromEmail('21.01234-5@maua.br')).toBe('21.01234-5');
    for (const email of [
      '21012345@maua.br',
      'ana@maua.br',
      'x21.01234-5@maua.br',
      '21.01234-5x@maua.br',
    ]) {
      expect(raFromEmail(email)).toBeNull();
    }
  });

  it('allows any domain without a list, else exactly the listed ones', () => {
    expect(isEmailDomainAllowed('a@anything.com', [])).toBe(true);
    expect(isEmailDomainAllowed('a@maua.br', ['maua.br'])).toBe(true);
    expect(isEmailDomainAllowed('a@MAUA.BR', ['maua.br'])).toBe(true);
    expect(isEmailDomainAllowed('a@evil-maua.br', ['maua.br'])).toBe(false);
    expect(isEmailDomainAllowed('a@sub.maua.br', ['maua.br'])).toBe(false);
    expect(isEmailDomainAllowed('a@maua.br.evil.com', ['maua.br'])).toBe(false);
  });

  it('resolves the ra: given wins, flagged when it disagrees; else derived; else null', () => {
    expect(resolveRa('21.01234-5@maua.br', undefined)).toEqual({ ra: '21.01234-5' });
    expect(resolveRa('21.01234-5@maua.br', null)).toEqual({ ra: '21.01234-5' });
    expect(resolveRa('21.01234-5@maua.br', '21012345')).toEqual({ ra: '21012345' });
    expect(resolveRa('ana@maua.br', '21.01234-5')).toEqual({ ra: '21.01234-5' });
    expect(resolveRa('ana@maua.br', undefined)).toEqual({ ra: null });
    expect(resolveRa('21.01234-5@maua.br', '22.00001-1')).toEqual({
      ra: '22.00001-1',
      warning: {
        field: 'ra',
        code: 'ra_differs_from_email',
        message:
          'ra 22.00001-1 differs from the RA in the email (21.01234-5); the given ra was kept.',
      },
    });
  });
});
