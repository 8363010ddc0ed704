import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { AuthUser } from '../../common/auth-user';
import { BEARER_ERROR, BearerOptional } from '../../common/decorators/bearer-optional.decorator';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { AppError } from '../../common/errors/app-error';
import { StreamQueryDto } from './dto/stream-query.dto';
import { StreamTicketResponseDto } from './dto/stream-ticket-response.dto';
import { StreamTicketsService } from './stream-tickets.service';
import { parseLastEventId } from './warning-events';
import { ResumePoint, WarningStreamHub } from './warning-stream.hub';

type StreamRequest = FastifyRequest & { user?: AuthUser; [BEARER_ERROR]?: AppError };

const STREAM_DESCRIPTION = `Server-Sent Events, one connection per client. Events:
- \`warning\`: a warning addressed to the caller was created or changed (data: the warning JSON).
- \`warning-removed\`: one was deleted, expired or moved to another audience (data: \`{id, reason}\`,
  reason \`deleted\`, \`expired\` or \`retargeted\`).
- \`ready\`: the replay is done and the stream is live (data: \`{replayed}\`).
- \`resync\`: the replay after Last-Event-ID cannot be exact (history purged, unknown id): re-read GET /warnings.
- \`closed\`: the server ends the stream (data: \`{reason}\`: too_many_streams, unauthorized, shutting_down, slow_consumer).
\`id:\` is \`<position>.<warning id>\` (\`ready\`: the position alone); send it back as Last-Event-ID
(or \`?last_event_id=\`) to resume. A comment (\`: heartbeat\`) every 15 s; \`retry: 3000\`.
Authenticate with the bearer header, or with \`?ticket=\` from POST /warnings/stream/ticket (not both).`;

/** The answer's head: what a proxy or browser needs to treat it as an unbuffered event stream. */
function startEventStream(reply: FastifyReply): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  return res;
}

/**
 * Last-Event-ID (EventSource's own reconnects) wins over ?last_event_id= (a new EventSource);
 * an empty one means "from now", so a client may always send its last id, even before it has one.
 */
function resumePointOf(
  header: string | string[] | undefined,
  query: string | undefined,
): ResumePoint | undefined {
  const given =
    typeof header === 'string' && header.trim() !== ''
      ? { value: header, field: 'Last-Event-ID' }
      : query !== undefined && query.trim() !== ''
        ? { value: query, field: 'last_event_id' }
        : undefined;
  if (!given) return undefined;
  const point = parseLastEventId(given.value);
  if (!point) {
    throw AppError.validation(
      [{ field: given.field, message: 'must be an event id this stream sent, e.g. 42.<uuid>' }],
      `${given.field} is not an event id of this stream.`,
    );
  }
  return point;
}

@ApiTags('warnings')
@ApiBearerAuth()
@Controller('warnings/stream')
export class WarningStreamController {
  constructor(
    private readonly hub: WarningStreamHub,
    private readonly tickets: StreamTicketsService,
  ) {}

  @Post('ticket')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A single-use, 30-second ticket for GET /warnings/stream?ticket= (browsers)',
    description:
      "Browsers' EventSource cannot send an Authorization header: ask for a ticket with the " +
      'bearer token, then open the stream with it. Each ticket works once, on any replica.',
  })
  @ApiOkResponse({ type: StreamTicketResponseDto })
  @ApiUnauthorizedResponse({ description: 'No valid bearer token' })
  @ApiForbiddenResponse({ description: 'account_not_approved' })
  async ticket(@CurrentUser() caller: AuthUser): Promise<StreamTicketResponseDto> {
    const { ticket, expiresIn } = await this.tickets.issue(caller);
    return { ticket, expires_in: expiresIn };
  }

  @Get()
  @BearerOptional()
  @ApiOperation({
    summary: 'Live warnings addressed to the caller (Server-Sent Events)',
    description: STREAM_DESCRIPTION,
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (an `id:` this stream sent).',
  })
  @ApiOkResponse({
    description: 'An event stream that stays open (text/event-stream)',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'retry: 3000\n\nevent: ready\nid: 41\ndata: {"replayed":0}\n\n' +
          'event: warning\nid: 42.6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f\ndata: {"id":"6f1c2e1e-3a4b-4c5d-8e9f-0a1b2c3d4e5f",...}\n\n' +
          ': heartbeat\n\n',
      },
    },
  })
  @ApiBadRequestResponse({
    description: 'Malformed Last-Event-ID or last_event_id; a ticket together with a bearer token',
  })
  @ApiUnauthorizedResponse({
    description:
      'No credential, a bad bearer token, or invalid_stream_ticket (unknown, used, expired)',
  })
  @ApiForbiddenResponse({ description: 'account_not_approved' })
  @ApiServiceUnavailableResponse({
    description: 'shutting_down, or stream_unavailable (not connected to the database yet)',
  })
  async stream(
    @Req() req: StreamRequest,
    @Res() reply: FastifyReply,
    @Query() query: StreamQueryDto,
  ): Promise<void> {
    const resume = resumePointOf(req.headers['last-event-id'], query.last_event_id);
    this.hub.assertAccepting();
    const caller = await this.callerOf(req, query);
    await this.hub.open(caller, resume, startEventStream(reply));
  }

  /** The bearer's caller, or the ticket's (never both: which one would it be?). */
  private async callerOf(req: StreamRequest, query: StreamQueryDto): Promise<AuthUser> {
    if (query.ticket !== undefined && req.headers.authorization !== undefined) {
      throw AppError.validation(
        [{ field: 'ticket', message: 'send either a ticket or an Authorization header, not both' }],
        'Give one credential: a bearer token or a stream ticket.',
      );
    }
    if (req.user) return req.user;
    if (req[BEARER_ERROR]) throw req[BEARER_ERROR];
    if (query.ticket !== undefined) return this.tickets.redeem(query.ticket);
    throw AppError.unauthorized(
      'A bearer token, or a stream ticket (?ticket=) from POST /warnings/stream/ticket, is required.',
    );
  }
}
