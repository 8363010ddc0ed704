import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { MockDataBootstrapService } from './mock-data-bootstrap.service';

/** Local development data: the mock users and warnings (see src/seed/mock-*.ts). */
@Module({
  imports: [AuthModule],
  providers: [MockDataBootstrapService],
})
export class SeedModule {}
