import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BookingRequestsModule } from './booking-requests/booking-requests.module';
import { CommonModule } from './common/common.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { SeedModule } from './seed/seed.module';
import { ObservabilityModule } from './observability/observability.module';
import { UsersModule } from './users/users.module';
import { WarningsModule } from './warnings/warnings.module';

@Module({})
export class AppModule {
  /** The config is loaded (and the database URL resolved) before Nest starts. */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        ObservabilityModule,
        DatabaseModule,
        AuditModule,
        AuthModule,
        HealthModule,
        UsersModule,
        ScheduleModule.forRoot(),
        WarningsModule,
        BookingRequestsModule,
        // Mock users and warnings at start: local runs only (SEED_ON_START; never production).
        ...(config.seedOnStart && config.nodeEnv !== 'production' ? [SeedModule] : []),
      ],
    };
  }
}
