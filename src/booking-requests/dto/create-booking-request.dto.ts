import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { IsIsoDateTime } from '../../common/validation/iso-date-time.validator';
import { Trim } from '../../common/validation/trim.transform';
import { COUNTRY_NAMES, normalizeCountry } from '../countries';
import { DURATION_MAX, DURATION_MIN } from '../entities/booking-request.entity';

/** Refuses a value normalizeCountry did not turn into a country name; the message names it. */
function IsKnownCountry(): PropertyDecorator {
  return ValidateBy({
    name: 'isKnownCountry',
    validator: {
      validate: (value) => typeof value === 'string' && COUNTRY_NAMES.has(value),
      defaultMessage: (args) => {
        const given = typeof args?.value === 'string' ? args.value : String(args?.value);
        const shown = given.length > 60 ? `${given.slice(0, 60)}…` : given;
        return `unknown country "${shown}": use an ISO 3166 code (BR, BRA) or an English country name`;
      },
    },
  });
}

export class AddressDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @Trim()
  @IsString()
  @Length(1, 200)
  street: string;

  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Trim()
  @IsString()
  @Length(1, 100)
  city: string;

  @ApiPropertyOptional({ maxLength: 100, nullable: true, description: 'empty means none' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(100)
  state?: string | null;

  @ApiProperty({
    description:
      'ISO 3166-1 alpha-2 or alpha-3 code or English name, any case; stored as the ISO short name',
    example: 'usa',
  })
  // A recognised value becomes the country's name here; anything else stays as given for the
  // error message.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (normalizeCountry(value) ?? value.trim()) : value,
  )
  @IsString()
  @IsKnownCountry()
  country: string;
}

/** POST /booking-requests; requested_by is the caller. */
export class CreateBookingRequestDto {
  @ApiProperty({ format: 'date-time', description: 'must be in the future' })
  @IsIsoDateTime()
  event_time: string;

  @ApiProperty({ minimum: DURATION_MIN, maximum: DURATION_MAX })
  @IsInt()
  @Min(DURATION_MIN)
  @Max(DURATION_MAX)
  duration_minutes: number;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @Trim()
  @IsString()
  @Length(1, 200)
  topic: string;

  @ApiProperty({ type: AddressDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => AddressDto)
  address: AddressDto;
}
