import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../common/auth-user';
import { AllowUnapproved } from '../common/decorators/allow-unapproved.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import { MAX_UPLOAD_BYTES } from '../app.setup';
import { AppError } from '../common/errors/app-error';
import { UuidParam } from '../common/pipes/uuid.pipe';
import { CreateUserDto } from './dto/create-user.dto';
import { ExportQueryDto } from './dto/export-query.dto';
import { ImportResultDto } from './dto/import-result.dto';
import { ListUsersQueryDto } from './dto/list-users-query.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserPageDto } from './dto/user-page.dto';
import { CreatedUserResponseDto, UserResponseDto } from './dto/user-response.dto';
import { UserExportService } from './user-export.service';
import { UserImportService } from './user-import.service';
import { Role } from './user.enums';
import { UsersService } from './users.service';

/** Room for the multipart boundaries and part headers around the file. */
const MULTIPART_ENVELOPE_BYTES = 64 * 1024;

// Static paths (me, export, import) are declared before /:id; the router also prefers them.
@ApiTags('users')
@ApiBearerAuth()
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly importer: UserImportService,
    private readonly exporter: UserExportService,
  ) {}

  @Get('me')
  @AllowUnapproved()
  @ApiOperation({ summary: 'The caller (open to a PENDING or REJECTED account too)' })
  @ApiOkResponse({ type: UserResponseDto })
  async me(@CurrentUser() caller: AuthUser): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.getById(caller.id));
  }

  @Get()
  @ApiOperation({ summary: 'List users (a USER sees only its own id)' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiBadRequestResponse({ description: 'bad filter' })
  list(@CurrentUser() caller: AuthUser, @Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    return this.users.list(caller, query);
  }

  @Get('export')
  @Roles(Role.ADM, Role.PRESIDENT)
  @ApiOperation({
    summary: 'Export users as CSV or XLSX (streamed)',
    description:
      'CSV: one file sorted like the list. XLSX: one worksheet per organization, named after ' +
      'it, and "No organization" for users without one. `organization` limits the export to ' +
      "one; a PRESIDENT exports its own organization's only.",
  })
  @ApiProduces('text/csv', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  @ApiOkResponse({ description: 'the file', schema: { type: 'string', format: 'binary' } })
  @ApiBadRequestResponse({ description: 'format or organization is not valid' })
  @ApiForbiddenResponse({
    description: 'a USER; a PRESIDENT asking for another organization (outside_organization)',
  })
  async export(
    @CurrentUser() caller: AuthUser,
    @Query() query: ExportQueryDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const file = await this.exporter.open(caller, query.format, query.organization);
    await reply
      .header('content-type', file.contentType)
      .header('content-disposition', `attachment; filename="${file.filename}"`)
      .header('cache-control', 'no-store')
      .send(file.stream);
  }

  @Post('import')
  @Roles(Role.ADM, Role.PRESIDENT)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Create users from a CSV or XLSX file',
    description:
      'Columns (header row, any case): name, email, role, organization, state; optional ra, ' +
      'course, year. Invalid and duplicate rows are skipped with the reason; a PRESIDENT may ' +
      'import only USERs of its own organization. Imported users have no password.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: { file: { type: 'string', format: 'binary' } },
    },
  })
  @ApiOkResponse({ type: ImportResultDto })
  @ApiBadRequestResponse({ description: 'not CSV/XLSX, empty, or required columns missing' })
  @ApiForbiddenResponse({ description: 'not an ADM or PRESIDENT' })
  async import(
    @CurrentUser() caller: AuthUser,
    @Req() req: FastifyRequest,
  ): Promise<ImportResultDto> {
    if (!req.isMultipart()) {
      throw AppError.badRequest(
        'Send the file as multipart/form-data.',
        undefined,
        'multipart_required',
      );
    }
    // Refuse an upload that is plainly too big before importing part of it.
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_UPLOAD_BYTES + MULTIPART_ENVELOPE_BYTES) {
      throw new AppError(
        413,
        'import_file_too_large',
        'Payload Too Large',
        `The file may be at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB.`,
      );
    }
    let part: Awaited<ReturnType<FastifyRequest['file']>>;
    try {
      part = await req.file();
    } catch (err) {
      // A broken multipart envelope (no boundary, cut short) is the client's, not a 500.
      if (err instanceof AppError) throw err;
      throw AppError.badRequest(
        'The multipart body could not be read.',
        undefined,
        'multipart_malformed',
      );
    }
    if (!part) {
      throw AppError.badRequest('The request holds no file.', undefined, 'import_file_required');
    }
    return this.importer.import(caller, {
      stream: part.file,
      filename: part.filename ?? '',
      mimetype: part.mimetype ?? '',
    });
  }

  @Get(':id')
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'unknown, or not one the caller may see' })
  async get(@CurrentUser() caller: AuthUser, @UuidParam() id: string): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.getVisible(caller, id));
  }

  @Post()
  @Roles(Role.ADM, Role.PRESIDENT)
  @ApiOperation({
    summary: 'Create a user',
    description:
      '`ra` defaults to the one in a student address (`21.01234-5@domain`); a given `ra` that ' +
      'disagrees with it is kept and flagged in `warnings` (code `ra_differs_from_email`).',
  })
  @ApiCreatedResponse({ type: CreatedUserResponseDto })
  @ApiBadRequestResponse({
    description: 'invalid body or unknown field; email_domain_not_allowed (ALLOWED_EMAIL_DOMAINS)',
  })
  @ApiForbiddenResponse({ description: 'a permission rule forbids it' })
  @ApiConflictResponse({ description: 'email already registered (user_email_taken)' })
  async create(
    @CurrentUser() caller: AuthUser,
    @Body() dto: CreateUserDto,
  ): Promise<CreatedUserResponseDto> {
    const { user, warnings } = await this.users.create(caller, dto);
    return CreatedUserResponseDto.withWarnings(user, warnings);
  }

  @Patch(':id')
  @ApiOkResponse({ type: UserResponseDto })
  @ApiBadRequestResponse({ description: 'invalid body or unknown field' })
  @ApiForbiddenResponse({ description: 'a permission rule forbids it' })
  @ApiNotFoundResponse()
  async update(
    @CurrentUser() caller: AuthUser,
    @UuidParam() id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserResponseDto> {
    return UserResponseDto.from(await this.users.update(caller, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'a permission rule forbids it' })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'the last active ADM (last_admin)' })
  async remove(@CurrentUser() caller: AuthUser, @UuidParam() id: string): Promise<void> {
    await this.users.remove(caller, id);
  }
}
