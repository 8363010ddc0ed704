import { passwordPolicyErrors } from './password-policy';

const ctx = { email: 'ana.lima@example.com', currentPassword: 'old password 123' };

describe('passwordPolicyErrors', () => {
  it('accepts a long enough password', () => {
    expect(passwordPolicyErrors('a much better one', ctx)).toEqual([]);
    expect(passwordPolicyErrors('x'.repeat(72), ctx)).toEqual([]);
  });

  it('counts characters, not bytes, for the minimum', () => {
    expect(passwordPolicyErrors('ação-ação-çã', ctx)).toEqual([]);
    expect(passwordPolicyErrors('ação-ação-ç', ctx)).toEqual([
      { field: 'new_password', message: 'must be at least 12 characters long' },
    ]);
  });

  it('refuses more than 72 bytes (bcrypt would ignore the rest)', () => {
    expect(passwordPolicyErrors('x'.repeat(73), ctx)).toEqual([
      { field: 'new_password', message: 'must be at most 72 bytes (UTF-8)' },
    ]);
    // 37 two-byte characters: 37 characters but 74 bytes.
    expect(passwordPolicyErrors('é'.repeat(37), ctx)).toHaveLength(1);
  });

  it('refuses the email address or its local part, in any case', () => {
    expect(passwordPolicyErrors('ANA.LIMA@example.com', ctx)).toEqual([
      { field: 'new_password', message: 'must not be your email address' },
    ]);
    const short = { email: 'ana.lima.souza@example.com' };
    expect(passwordPolicyErrors('Ana.Lima.Souza', short)).toEqual([
      { field: 'new_password', message: 'must not be your email address' },
    ]);
  });

  it('refuses the current password', () => {
    expect(passwordPolicyErrors('old password 123', ctx)).toEqual([
      { field: 'new_password', message: 'must differ from the current password' },
    ]);
  });

  it('lists every broken rule', () => {
    expect(
      passwordPolicyErrors('short', { email: 'short@example.com', currentPassword: 'short' }),
    ).toHaveLength(3);
  });
});
