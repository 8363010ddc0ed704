import { ApiProperty } from '@nestjs/swagger';

/** The reason of a row refused by ALLOWED_EMAIL_DOMAINS (also the problem code of POST /users). */
export const EMAIL_DOMAIN_NOT_ALLOWED = 'email_domain_not_allowed';

/** How many entries each list of the answer holds at most; the `*_total` fields count all. */
export const IMPORT_LIST_CAP = 1000;

export class SkippedRowDto {
  @ApiProperty({ description: '1-based line (CSV) or row (XLSX) in the file; the header is 1' })
  row: number;
  @ApiProperty({ nullable: true, type: String }) email: string | null;
  @ApiProperty({
    example: 'email already registered',
    description: 'a sentence, or the code `email_domain_not_allowed`',
  })
  reason: string;
}

export class ImportWarningDto {
  @ApiProperty({ description: 'the row of the created user' }) row: number;
  @ApiProperty() email: string;
  @ApiProperty({ example: 'ra' }) field: string;
  @ApiProperty({ example: 'ra_differs_from_email' }) code: string;
  @ApiProperty() message: string;
}

export class ImportResultDto {
  @ApiProperty({ description: 'users created (all of them)' }) created: number;
  @ApiProperty({
    type: [String],
    description: `emails of the created users in file order, the first ${IMPORT_LIST_CAP}`,
  })
  created_emails: string[];
  @ApiProperty({
    type: [SkippedRowDto],
    description: `skipped rows by row number, the first ${IMPORT_LIST_CAP}`,
  })
  skipped: SkippedRowDto[];
  @ApiProperty({ description: 'rows skipped (all of them)' }) skipped_total: number;
  @ApiProperty({
    type: [ImportWarningDto],
    description: `created users worth a look (e.g. ra_differs_from_email), the first ${IMPORT_LIST_CAP}`,
  })
  warnings: ImportWarningDto[];
  @ApiProperty({ description: 'warnings (all of them)' }) warnings_total: number;
}
