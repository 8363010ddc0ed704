import { ApiProperty } from '@nestjs/swagger';

export class SkippedRowDto {
  @ApiProperty({ description: '1-based line (CSV) or row (XLSX) in the file; the header is 1' })
  row: number;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({ example: 'email already registered' }) reason: string;
}

export class ImportResultDto {
  @ApiProperty({ description: 'users created' }) created: number;
  @ApiProperty({ type: [SkippedRowDto] }) skipped: SkippedRowDto[];
}
