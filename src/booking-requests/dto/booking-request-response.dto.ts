import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '../../common/pagination/page.dto';
import { BookingRequest, BookingStatus } from '../entities/booking-request.entity';

export class BookingAddressResponseDto {
  @ApiProperty() street: string;
  @ApiProperty() city: string;
  @ApiProperty({ nullable: true, type: String }) state: string | null;
  @ApiProperty({ description: 'ISO 3166 English short name', example: 'United States' })
  country: string;
}

export class BookingRequestResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) event_time: string;
  @ApiProperty({ minimum: 1, maximum: 1440 }) duration_minutes: number;
  @ApiProperty() topic: string;
  @ApiProperty({ type: BookingAddressResponseDto }) address: BookingAddressResponseDto;
  @ApiProperty({ format: 'uuid' }) requested_by: string;
  @ApiProperty() requester_email: string;
  @ApiProperty({ enum: BookingStatus }) status: BookingStatus;
  @ApiProperty({ nullable: true, type: String }) reason: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) decided_by: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) decided_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(b: BookingRequest): BookingRequestResponseDto {
    return {
      id: b.id,
      event_time: b.eventTime.toISOString(),
      duration_minutes: b.durationMinutes,
      topic: b.topic,
      address: {
        street: b.addressStreet,
        city: b.addressCity,
        state: b.addressState,
        country: b.addressCountry,
      },
      requested_by: b.requestedBy,
      requester_email: b.requesterEmail,
      status: b.status,
      reason: b.reason,
      decided_by: b.decidedBy,
      decided_at: b.decidedAt ? b.decidedAt.toISOString() : null,
      created_at: b.createdAt.toISOString(),
      updated_at: b.updatedAt.toISOString(),
    };
  }
}

export class BookingRequestPageDto extends PageOf(BookingRequestResponseDto) {}
