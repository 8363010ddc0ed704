import { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Page } from './keyset';

/**
 * The OpenAPI schema of a page of `item`: `class WarningPageDto extends PageOf(WarningResponseDto) {}`
 * (the subclass names the schema).
 */
export function PageOf<T>(item: Type<T>): Type<Page<T>> {
  class PageDto implements Page<T> {
    @ApiProperty({ type: [item] })
    items: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'pass as ?cursor= for the next page (same filters); null on the last page',
    })
    next_cursor: string | null;

    @ApiPropertyOptional({
      type: 'integer',
      minimum: 0,
      description: 'the exact number of matching rows; only with ?count=true',
    })
    total?: number;
  }
  return PageDto;
}
