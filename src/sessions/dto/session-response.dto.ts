import { ApiProperty } from '@nestjs/swagger';
import type { SessionView } from '../sessions.service';

/** One of the caller's live sessions (GET /auth/sessions). */
export class SessionResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time', description: 'The sign-in.' }) created_at: string;
  @ApiProperty({ format: 'date-time', description: 'The sign-in or the last refresh.' })
  last_used_at: string;
  @ApiProperty({ nullable: true, type: String, description: 'At the last sign-in or refresh.' })
  ip: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 512 }) user_agent: string | null;
  @ApiProperty({ description: 'True for the session of the access token used to ask.' })
  current: boolean;

  static from(session: SessionView, currentSessionId: string): SessionResponseDto {
    return {
      id: session.id,
      created_at: session.createdAt.toISOString(),
      last_used_at: session.lastUsedAt.toISOString(),
      ip: session.ip,
      user_agent: session.userAgent,
      current: session.id === currentSessionId,
    };
  }
}

/** GET /auth/sessions: the caller's live sessions, most recently used first (at most 100). */
export class SessionListDto {
  @ApiProperty({ type: [SessionResponseDto] }) items: SessionResponseDto[];
}
