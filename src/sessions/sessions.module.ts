import { Module } from '@nestjs/common';
import { SessionsController } from './sessions.controller';
import { SessionsPurgeScheduler } from './sessions-purge.scheduler';
import { SessionsPurgeService } from './sessions-purge.service';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [SessionsController],
  providers: [SessionsService, SessionsPurgeService, SessionsPurgeScheduler],
  exports: [SessionsService, SessionsPurgeService],
})
export class SessionsModule {}
