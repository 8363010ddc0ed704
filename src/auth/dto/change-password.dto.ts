import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export class ChangePasswordDto {
  @ApiProperty({ maxLength: 1024 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(1024)
  current_password: string;

  @ApiProperty({
    minLength: 12,
    description: 'At least 12 characters, at most 72 bytes, not your email, not the current one.',
  })
  @IsString()
  @MaxLength(1024)
  new_password: string;
}
