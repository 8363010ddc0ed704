import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AppConfig } from '../config/app-config';
import { WarningsPurgeService } from './warnings-purge.service';

export const WARNINGS_PURGE_JOB = 'warnings-purge';

/**
 * Runs the purge on WARNINGS_PURGE_CRON (every 5 minutes by default) unless
 * WARNINGS_PURGE_ENABLED is false. The job is registered with @nestjs/schedule, which stops it
 * when the app closes. Every replica ticks at the same instants; the advisory lock in
 * WarningsPurgeService lets one of them purge.
 */
@Injectable()
export class WarningsPurgeScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('WarningsPurge');

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly purger: WarningsPurgeService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.warningsPurgeEnabled) return;
    const job = CronJob.from({
      cronTime: this.config.warningsPurgeCron,
      onTick: () => this.tick(),
      start: false,
      waitForCompletion: true,
    });
    this.registry.addCronJob(WARNINGS_PURGE_JOB, job);
    job.start();
  }

  /** Never throws: a failed tick is logged and the next one tries again. */
  async tick(): Promise<void> {
    try {
      const { ran, deleted } = await this.purger.purge();
      if (ran && deleted > 0) this.logger.log({ msg: 'purged expired warnings', deleted });
    } catch (err) {
      this.logger.error({ msg: 'warnings purge failed', err });
    }
  }
}
