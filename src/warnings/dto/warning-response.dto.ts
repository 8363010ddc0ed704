import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '../../common/pagination/page.dto';
import { Organization, Role } from '../../users/user.enums';
import type { Warning } from '../entities/warning.entity';

export class WarningResponseDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: Role }) target_role: Role;
  @ApiProperty({
    enum: Organization,
    nullable: true,
    description: 'null or ALL: every organization',
  })
  target_org: Organization | null;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) created_by: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;

  static from(w: Warning): WarningResponseDto {
    return {
      id: w.id,
      title: w.title,
      description: w.description,
      target_role: w.targetRole,
      target_org: w.targetOrg,
      expires_at: w.expiresAt.toISOString(),
      created_by: w.createdBy,
      created_at: w.createdAt.toISOString(),
    };
  }
}

export class WarningPageDto extends PageOf(WarningResponseDto) {}
