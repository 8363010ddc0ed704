import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { AppConfig } from '../config/app-config';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (!config.databaseUrl)
          throw new Error('databaseUrl must be resolved before the app starts');
        return {
          ...buildDataSourceOptions({
            url: config.databaseUrl,
            ssl: config.databaseSsl,
            poolSize: config.databasePoolSize,
            statementTimeoutMs: config.databaseStatementTimeoutMs,
            connectTimeoutMs: config.databaseConnectTimeoutMs,
          }),
          // TypeORM's own logger prints failed queries with their parameters as plain text; the
          // problem filter logs them as JSON lines (without the parameters) instead.
          logging: false,
          // Ride out a database that is still starting; then fail so ECS replaces the task.
          retryAttempts: 5,
          retryDelay: 2000,
        };
      },
    }),
  ],
})
export class DatabaseModule {}
