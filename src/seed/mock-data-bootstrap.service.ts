import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PasswordHasher } from '../auth/password-hasher';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { MockDataResult, seedMockData } from './mock-data';
import { DEFAULT_SEED_PASSWORD } from './mock-users';

/**
 * SEED_ON_START (on by default with the embedded database outside production): loads the mock
 * users and warnings at start, after the migrations, so a first `npm start` has accounts to
 * sign in with. Never in production, whatever the configuration says.
 */
@Injectable()
export class MockDataBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger(MockDataBootstrapService.name);
  /** What the last start loaded; undefined when it did not seed. */
  result?: MockDataResult;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.seedOnStart || this.config.nodeEnv === 'production') return;
    const password = this.config.seedPassword ?? DEFAULT_SEED_PASSWORD;
    this.result = await seedMockData(this.dataSource, {
      passwordHash: () => this.hasher.hash(password),
      now: this.clock.now(),
    });
    const { users, warnings } = this.result;
    this.logger.log(
      `mock data: ${users.created.length} user(s) and ${warnings.created.length} warning(s) created, ` +
        `${users.existing.length} and ${warnings.existing.length} already there`,
    );
  }
}
