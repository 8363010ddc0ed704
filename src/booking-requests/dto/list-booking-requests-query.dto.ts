import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional, IsUUID } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsIsoDateOrDateTime } from '../../common/validation/iso-date-time.validator';
import { BookingStatus } from '../entities/booking-request.entity';

/** GET /booking-requests. Filters narrow what the caller may see (a non-ADM only their own). */
export class ListBookingRequestsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: BookingStatus })
  @IsOptional()
  @IsEnum(BookingStatus)
  status?: BookingStatus;

  @ApiPropertyOptional({
    description: 'event_time at or after this: a date-time with offset, or a date (its 00:00 UTC)',
    example: '2030-01-31',
  })
  @IsOptional()
  @IsIsoDateOrDateTime()
  from?: string;

  @ApiPropertyOptional({
    description:
      'event_time at or before this: a date-time with offset, or a date (the whole day, UTC)',
  })
  @IsOptional()
  @IsIsoDateOrDateTime()
  to?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'the requester' })
  @IsOptional()
  @IsUUID()
  requested_by?: string;
}
