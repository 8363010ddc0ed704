import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Warning } from './entities/warning.entity';
import { WarningsController } from './warnings.controller';
import { WarningsPurgeScheduler } from './warnings-purge.scheduler';
import { WarningsPurgeService } from './warnings-purge.service';
import { WarningsService } from './warnings.service';

@Module({
  imports: [TypeOrmModule.forFeature([Warning])],
  controllers: [WarningsController],
  providers: [WarningsService, WarningsPurgeService, WarningsPurgeScheduler],
  exports: [WarningsPurgeService],
})
export class WarningsModule {}
