import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../common/auth-user';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import { UuidParam } from '../common/pipes/uuid.pipe';
import { Role } from '../users/user.enums';
import { BookingRequestsService } from './booking-requests.service';
import {
  BookingRequestPageDto,
  BookingRequestResponseDto,
} from './dto/booking-request-response.dto';
import { CreateBookingRequestDto } from './dto/create-booking-request.dto';
import { DecideBookingRequestDto } from './dto/decide-booking-request.dto';
import { ListBookingRequestsQueryDto } from './dto/list-booking-requests-query.dto';
import { BookingStatus } from './entities/booking-request.entity';

@ApiTags('booking-requests')
@ApiBearerAuth()
@Controller('booking-requests')
export class BookingRequestsController {
  constructor(private readonly bookings: BookingRequestsService) {}

  @Post()
  @ApiOperation({ summary: 'Request a booking (any active user); it starts pending' })
  @ApiCreatedResponse({ type: BookingRequestResponseDto })
  @ApiBadRequestResponse({
    description:
      'Invalid body, event_time not in the future, duration not 1..1440, unknown country',
  })
  async create(
    @CurrentUser() caller: AuthUser,
    @Body() body: CreateBookingRequestDto,
  ): Promise<BookingRequestResponseDto> {
    return BookingRequestResponseDto.from(await this.bookings.create(caller, body));
  }

  @Get()
  @ApiOperation({
    summary: 'Booking requests, newest first',
    description: 'ADM: every request. Others: their own. Filters narrow the result.',
  })
  @ApiOkResponse({ type: BookingRequestPageDto })
  @ApiBadRequestResponse({ description: 'Invalid filter, or from after to' })
  async list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListBookingRequestsQueryDto,
  ): Promise<BookingRequestPageDto> {
    const page = await this.bookings.list(caller, query);
    return { ...page, items: page.items.map((b) => BookingRequestResponseDto.from(b)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One booking request (its owner or an ADM)' })
  @ApiOkResponse({ type: BookingRequestResponseDto })
  @ApiNotFoundResponse({ description: "Unknown, or another user's request" })
  async get(
    @CurrentUser() caller: AuthUser,
    @UuidParam() id: string,
  ): Promise<BookingRequestResponseDto> {
    return BookingRequestResponseDto.from(await this.bookings.get(caller, id));
  }

  @Post(':id/accept')
  @Roles(Role.ADM)
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept a pending booking request (ADM)' })
  @ApiOkResponse({ type: BookingRequestResponseDto })
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  @ApiNotFoundResponse({ description: 'Unknown id' })
  @ApiConflictResponse({ description: 'Not pending (already decided)' })
  async accept(
    @CurrentUser() caller: AuthUser,
    @UuidParam() id: string,
    @Body() body: DecideBookingRequestDto,
  ): Promise<BookingRequestResponseDto> {
    return BookingRequestResponseDto.from(
      await this.bookings.decide(caller, id, BookingStatus.ACCEPTED, body.reason),
    );
  }

  @Post(':id/reject')
  @Roles(Role.ADM)
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a pending booking request (ADM)' })
  @ApiOkResponse({ type: BookingRequestResponseDto })
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  @ApiNotFoundResponse({ description: 'Unknown id' })
  @ApiConflictResponse({ description: 'Not pending (already decided)' })
  async reject(
    @CurrentUser() caller: AuthUser,
    @UuidParam() id: string,
    @Body() body: DecideBookingRequestDto,
  ): Promise<BookingRequestResponseDto> {
    return BookingRequestResponseDto.from(
      await this.bookings.decide(caller, id, BookingStatus.REJECTED, body.reason),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a booking request (ADM; or its owner while pending)' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'The owner, once the request is decided' })
  @ApiNotFoundResponse({ description: "Unknown, or another user's request" })
  async remove(@CurrentUser() caller: AuthUser, @UuidParam() id: string): Promise<void> {
    await this.bookings.remove(caller, id);
  }
}
