import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config/app-config';
import { SessionsPurgeService } from './sessions-purge.service';

export const SESSIONS_PURGE_JOB = 'sessions-purge';

/**
 * Purges ended sessions on the warnings purge's schedule (WARNINGS_PURGE_CRON, on unless
 * WARNINGS_PURGE_ENABLED is false). Stopped with the app by @nestjs/schedule.
 */
@Injectable()
export class SessionsPurgeScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('SessionsPurge');

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly purger: SessionsPurgeService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.warningsPurgeEnabled) return;
    const job = CronJob.from({
      cronTime: this.config.warningsPurgeCron,
      onTick: () => this.tick(),
      start: false,
      waitForCompletion: true,
    });
    this.registry.addCronJob(SESSIONS_PURGE_JOB, job);
    job.start();
  }

  /** Never throws: a failed tick is logged and the next one tries again. */
  async tick(): Promise<void> {
    try {
      const { ran, deleted } = await this.purger.purge();
      if (ran && deleted > 0) this.logger.log({ msg: 'purged ended sessions', deleted });
    } catch (err) {
      this.logger.error({ msg: 'sessions purge failed', err });
    }
  }
}
