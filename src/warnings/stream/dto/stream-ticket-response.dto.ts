import { ApiProperty } from '@nestjs/swagger';

export class StreamTicketResponseDto {
  @ApiProperty({
    description: 'Pass as GET /warnings/stream?ticket=...; works once.',
    example: 'Jx2m0vQ4k3mV1d0yZ8bQwq9Yk0v7p5bR2sH6tL1nC3e',
  })
  ticket: string;

  @ApiProperty({ description: 'Seconds until the ticket expires unused.', example: 30 })
  expires_in: number;
}
