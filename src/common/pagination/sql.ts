/**
 * A tiny SQL builder for statements whose shape varies (lists with optional filters): text and
 * values travel together and are numbered ($1, $2, ...) only when the statement is compiled, so
 * a value can never become SQL text. `raw` is for fixed, trusted SQL only (column lists, operators
 * chosen from code), never for request input.
 */
export class Sql {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

export interface Statement {
  text: string;
  values: unknown[];
}

/** sql`a = ${value} AND ${otherSql}`: values become parameters, nested Sql is inlined. */
export function sql(strings: TemplateStringsArray | readonly string[], ...values: unknown[]): Sql {
  return new Sql([...strings], values);
}

/** Trusted SQL text (never request input). */
export function raw(text: string): Sql {
  return new Sql([text], []);
}

/** The fragments joined by `separator` (trusted text such as ' AND '). */
export function join(parts: readonly Sql[], separator: string): Sql {
  if (parts.length === 0) return raw('');
  const strings = [''];
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    if (i > 0) strings[strings.length - 1] += separator;
    values.push(part);
    strings.push('');
  });
  return new Sql(strings, values);
}

/** Numbers the parameters: the text and values that pg's query(text, values) takes. */
export function compile(fragment: Sql): Statement {
  const values: unknown[] = [];
  const walk = (s: Sql): string => {
    let text = s.strings[0];
    s.values.forEach((value, i) => {
      if (value instanceof Sql) {
        text += walk(value);
      } else {
        values.push(value);
        text += `$${values.length}`;
      }
      text += s.strings[i + 1];
    });
    return text;
  };
  return { text: walk(fragment), values };
}
