import { Transform } from 'class-transformer';

/** Trims a string value before validation; other values pass through for the validators. */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
