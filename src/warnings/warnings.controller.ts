import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
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
import { CreateWarningDto } from './dto/create-warning.dto';
import { ListWarningsQueryDto } from './dto/list-warnings-query.dto';
import { UpdateWarningDto } from './dto/update-warning.dto';
import { WarningPageDto, WarningResponseDto } from './dto/warning-response.dto';
import { WarningsService } from './warnings.service';

@ApiTags('warnings')
@ApiBearerAuth()
@Controller('warnings')
export class WarningsController {
  constructor(private readonly warnings: WarningsService) {}

  @Post()
  @Roles(Role.ADM)
  @ApiOperation({ summary: 'Create a warning (ADM)' })
  @ApiCreatedResponse({ type: WarningResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid body or expires_at not in the future' })
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  async create(
    @CurrentUser() caller: AuthUser,
    @Body() body: CreateWarningDto,
  ): Promise<WarningResponseDto> {
    return WarningResponseDto.from(await this.warnings.create(caller, body));
  }

  @Get()
  @ApiOperation({
    summary: 'Unexpired warnings, newest first, in keyset pages',
    description:
      'ADM: every unexpired warning. Others: those for their role and for their organization, ' +
      'every organization (ALL) or no organization. role and organization narrow by exact match. ' +
      'An ADM may pass as_role (and as_organization) to see the list a user of that audience ' +
      'sees; anyone else gets 403 for them.',
  })
  @ApiOkResponse({ type: WarningPageDto })
  @ApiBadRequestResponse({ description: 'bad filter, limit, count or cursor; offset' })
  @ApiForbiddenResponse({ description: 'as_role/as_organization from a caller who is not ADM' })
  async list(
    @CurrentUser() caller: AuthUser,
    @Query() query: ListWarningsQueryDto,
  ): Promise<WarningPageDto> {
    const page = await this.warnings.list(caller, query);
    return { ...page, items: page.items.map((w) => WarningResponseDto.from(w)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One warning (ADM, or a user it is addressed to; never expired)' })
  @ApiOkResponse({ type: WarningResponseDto })
  @ApiNotFoundResponse({ description: 'Unknown, expired or not addressed to the caller' })
  async get(@CurrentUser() caller: AuthUser, @UuidParam() id: string): Promise<WarningResponseDto> {
    return WarningResponseDto.from(await this.warnings.get(caller, id));
  }

  @Patch(':id')
  @Roles(Role.ADM)
  @ApiOperation({ summary: 'Change any subset of a warning (ADM)' })
  @ApiOkResponse({ type: WarningResponseDto })
  @ApiBadRequestResponse({
    description: 'Invalid body, empty body or expires_at not in the future',
  })
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  @ApiNotFoundResponse({ description: 'Unknown or expired' })
  async update(
    @CurrentUser() caller: AuthUser,
    @UuidParam() id: string,
    @Body() body: UpdateWarningDto,
  ): Promise<WarningResponseDto> {
    return WarningResponseDto.from(await this.warnings.update(caller, id, body));
  }

  @Delete(':id')
  @Roles(Role.ADM)
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a warning (ADM)' })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({ description: 'Not an ADM' })
  @ApiNotFoundResponse({ description: 'Unknown or expired' })
  async remove(@CurrentUser() caller: AuthUser, @UuidParam() id: string): Promise<void> {
    await this.warnings.remove(caller, id);
  }
}
