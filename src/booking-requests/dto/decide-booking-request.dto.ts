import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { Trim } from '../../common/validation/trim.transform';

/** POST /booking-requests/:id/accept and /reject; the body may be absent. */
export class DecideBookingRequestDto {
  @ApiPropertyOptional({ maxLength: 1000, nullable: true, description: 'empty means none' })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(1000)
  reason?: string | null;
}
