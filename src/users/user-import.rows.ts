import { isEmail } from 'class-validator';
import { EMAIL_DOMAIN_NOT_ALLOWED } from './dto/import-result.dto';
import { FieldWarning, isEmailDomainAllowed, resolveRa } from './user-email-rules';
import { Actor, checkCreate } from './user-permissions';
import { Course, Organization, RA_PATTERN, Role, UserState } from './user.enums';

/**
 * Pure row handling for POST /users/import: header mapping and per-row validation, in memory,
 * with no database and no class instances per row (100k rows must take seconds).
 */

export const REQUIRED_COLUMNS = ['name', 'email', 'role', 'organization', 'state'] as const;
export const OPTIONAL_COLUMNS = ['ra', 'course', 'year'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

/** Index of each known column in a row; unknown columns (e.g. id from an export) are ignored. */
export type ColumnMap = Record<(typeof REQUIRED_COLUMNS)[number], number> &
  Partial<Record<(typeof OPTIONAL_COLUMNS)[number], number>>;

export interface ImportRow {
  name: string;
  email: string;
  role: Role;
  organization: Organization | null;
  state: UserState;
  ra: string | null;
  course: Course | null;
  year: number | null;
}

export type RowResult =
  | { ok: true; value: ImportRow; warning?: FieldWarning }
  | { ok: false; email: string | null; reason: string };

/** What the import checks besides the row itself. */
export interface ImportRules {
  /** ALLOWED_EMAIL_DOMAINS; empty means any domain. */
  allowedEmailDomains: readonly string[];
}

/** Case-insensitive column names; the first occurrence of a name wins. */
export function mapHeader(cells: string[]): { map: ColumnMap } | { missing: string[] } {
  const found = new Map<string, number>();
  cells.forEach((cell, i) => {
    const key = cell.trim().toLowerCase();
    if (key && !found.has(key)) found.set(key, i);
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !found.has(c));
  if (missing.length > 0) return { missing };
  const map = {} as ColumnMap;
  for (const c of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS] as Column[]) {
    const i = found.get(c);
    if (i !== undefined) map[c] = i;
  }
  return { map };
}

const ROLES = new Set<string>(Object.values(Role));
const ORGANIZATIONS = new Set<string>(Object.values(Organization));
const STATES = new Set<string>(Object.values(UserState));
const COURSES = new Set<string>(Object.values(Course));
// What our CSV export puts before a cell that a spreadsheet would run as a formula.
const NEUTRALIZED_FORMULA = /^'[=+\-@\t\r]/;

function cell(cells: string[], index: number | undefined): string {
  if (index === undefined) return '';
  const raw = cells[index];
  if (raw === undefined) return '';
  const value = raw.trim();
  return NEUTRALIZED_FORMULA.test(value) ? value.slice(1) : value;
}

function enumValue<T extends string>(value: string, allowed: Set<string>): T | undefined {
  const upper = value.toUpperCase();
  return allowed.has(upper) ? (upper as T) : undefined;
}

/**
 * Validates one data row. Blank optional values become null; a blank state is PENDING; a
 * PRESIDENT's blank organization is its own; a blank ra is the one in a student address.
 * Every problem of the row is named in the reason; a valid row whose email's domain is not
 * allowed is refused with the reason `email_domain_not_allowed`.
 */
export function parseImportRow(
  cells: string[],
  map: ColumnMap,
  actor: Actor,
  rules: ImportRules = { allowedEmailDomains: [] },
): RowResult {
  const problems: string[] = [];

  const name = cell(cells, map.name);
  if (name.length < 2 || name.length > 200) problems.push('name must be 2 to 200 characters');

  const email = cell(cells, map.email).toLowerCase();
  if (!email) problems.push('email is missing');
  else if (email.length > 320 || !isEmail(email)) problems.push('email is not valid');

  const roleText = cell(cells, map.role);
  const role = enumValue<Role>(roleText, ROLES);
  if (!role) problems.push(`role must be one of ${[...ROLES].join(', ')}`);

  const orgText = cell(cells, map.organization);
  let organization: Organization | null = null;
  if (orgText) {
    const org = enumValue<Organization>(orgText, ORGANIZATIONS);
    if (org) organization = org;
    else problems.push(`organization must be one of ${[...ORGANIZATIONS].join(', ')}`);
  } else if (actor.role === Role.PRESIDENT) {
    organization = actor.organization;
  }

  const stateText = cell(cells, map.state);
  let state = UserState.PENDING;
  if (stateText) {
    const s = enumValue<UserState>(stateText, STATES);
    if (s) state = s;
    else problems.push(`state must be one of ${[...STATES].join(', ')}`);
  }

  const givenRa = cell(cells, map.ra) || null;
  if (givenRa !== null && !RA_PATTERN.test(givenRa)) problems.push('ra must look like 21.01234-5');

  const courseText = cell(cells, map.course);
  let course: Course | null = null;
  if (courseText) {
    const c = enumValue<Course>(courseText, COURSES);
    if (c) course = c;
    else problems.push('course is not a known course');
  }

  const yearText = cell(cells, map.year);
  let year: number | null = null;
  if (yearText) {
    // Spreadsheets may hand over 3 as "3.0".
    const y = /^\d+(\.0+)?$/.test(yearText) ? Number.parseInt(yearText, 10) : NaN;
    if (Number.isInteger(y) && y >= 0 && y <= 5) year = y;
    else problems.push('year must be a whole number from 0 to 5');
  }

  const reportedEmail = email || null;
  if (problems.length > 0) return { ok: false, email: reportedEmail, reason: problems.join('; ') };

  if (!isEmailDomainAllowed(email, rules.allowedEmailDomains)) {
    return { ok: false, email, reason: EMAIL_DOMAIN_NOT_ALLOWED };
  }

  const denial = checkCreate(actor, { role: role!, organization });
  if (denial) return { ok: false, email: reportedEmail, reason: `forbidden: ${denial.detail}` };

  const { ra, warning } = resolveRa(email, givenRa);
  return {
    ok: true,
    value: { name, email, role: role!, organization, state, ra, course, year },
    ...(warning ? { warning } : {}),
  };
}
