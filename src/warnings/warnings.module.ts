import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { Warning } from './entities/warning.entity';
import { StreamTicketsService } from './stream/stream-tickets.service';
import { WarningStreamController } from './stream/warning-stream.controller';
import { WarningStreamHub } from './stream/warning-stream.hub';
import { WarningsController } from './warnings.controller';
import { WarningsPurgeScheduler } from './warnings-purge.scheduler';
import { WarningsPurgeService } from './warnings-purge.service';
import { WarningsService } from './warnings.service';

@Module({
  imports: [TypeOrmModule.forFeature([Warning]), AuthModule],
  // The stream's routes first: /warnings/stream is not a warning id.
  controllers: [WarningStreamController, WarningsController],
  providers: [
    WarningsService,
    WarningsPurgeService,
    WarningsPurgeScheduler,
    StreamTicketsService,
    WarningStreamHub,
  ],
  exports: [WarningsPurgeService],
})
export class WarningsModule {}
