import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class StreamQueryDto {
  @ApiPropertyOptional({
    description:
      'A single-use ticket from POST /warnings/stream/ticket, for clients that cannot send an ' +
      'Authorization header (EventSource). Never put an access token here.',
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  ticket?: string;

  @ApiPropertyOptional({
    description:
      'Resume after this event id, like the Last-Event-ID header (which wins when both are ' +
      'given): for a new EventSource, which cannot set that header. Empty: from now.',
    maxLength: 60,
    example: '42.6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f',
  })
  @IsOptional()
  @IsString()
  @MaxLength(60)
  last_event_id?: string;
}
