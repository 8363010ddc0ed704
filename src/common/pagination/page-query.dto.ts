import { ApiHideProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { MAX_CURSOR_LENGTH } from './cursor';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** `?count=true|false`; anything else stays as given and fails IsBoolean. */
function parseBoolean({ value }: { value: unknown }): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
}

/**
 * `?limit=` (1..100, default 20), `?cursor=` (the previous page's next_cursor) and
 * `?count=true` (adds the exact total). Extend it with the list's filters. `offset` is gone:
 * it is refused by name.
 */
export class PageQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_LIMIT,
    default: DEFAULT_PAGE_LIMIT,
    description: 'rows per page',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_LIMIT)
  limit: number = DEFAULT_PAGE_LIMIT;

  @ApiPropertyOptional({
    type: String,
    maxLength: MAX_CURSOR_LENGTH,
    pattern: '^[A-Za-z0-9_-]+$',
    description:
      'next_cursor of the previous page, with the same filters; absent: the first page. ' +
      'Opaque: a cursor of another list, of other filters or an altered one is 400.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CURSOR_LENGTH)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a next_cursor of this API' })
  cursor?: string;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'true: the answer adds `total`, the exact number of matching rows',
  })
  @IsOptional()
  @Transform(parseBoolean)
  @IsBoolean({ message: 'count must be true or false' })
  count?: boolean;

  /** Offset pages are gone (they read every skipped row): refused by name. */
  @ApiHideProperty()
  @ValidateBy({
    name: 'offsetRemoved',
    validator: {
      validate: (value: unknown) => value === undefined,
      defaultMessage: () => 'offset is not supported: follow next_cursor (see ?cursor=)',
    },
  })
  offset?: never;
}
