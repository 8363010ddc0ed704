import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LogsClientFactory } from './logs';

/** AWS clients with bounded attempts and timeouts: no call hangs a CI job. */
export function awsClients(region?: string): { ecs: ECSClient; logsFor: LogsClientFactory } {
  const common = {
    maxAttempts: 5,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  };
  const logs = new Map<string, CloudWatchLogsClient>();
  return {
    ecs: new ECSClient({ region, ...common }),
    logsFor: (logRegion) => {
      const key = logRegion ?? region ?? '';
      let client = logs.get(key);
      if (!client) {
        client = new CloudWatchLogsClient({ region: logRegion ?? region, ...common });
        logs.set(key, client);
      }
      return client;
    },
  };
}
