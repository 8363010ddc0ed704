import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

interface Version {
  value: string;
  stages: Set<string>;
}

/**
 * Secrets Manager as far as the rotation uses it, in memory, on top of aws-sdk-client-mock:
 * versions with staging labels, a label on one version at a time, AWSPREVIOUS set when
 * AWSCURRENT moves, idempotent PutSecretValue per ClientRequestToken, and the errors the real
 * service answers when a call does not fit.
 */
export class FakeSecretsManager {
  readonly secrets = new Map<string, Map<string, Version>>();
  readonly mock: AwsClientStub<SecretsManagerClient>;
  private readonly calls = new Map<string, number>();
  private readonly failures: Array<{ command: string; call: number; error: Error }> = [];

  constructor() {
    this.mock = mockClient(SecretsManagerClient);
    this.install();
  }

  reset(): void {
    this.secrets.clear();
    this.calls.clear();
    this.failures.length = 0;
    this.mock.reset();
    this.install();
  }

  /**
   * The call-th call of the command (counting from 1, from now on) fails with error, before
   * it changes anything: a network error or a crash at that point.
   */
  failCall(command: { name: string }, call: number, error: Error): void {
    this.failures.push({
      command: command.name,
      call: (this.calls.get(command.name) ?? 0) + call,
      error,
    });
  }

  private count(command: { name: string }): void {
    const n = (this.calls.get(command.name) ?? 0) + 1;
    this.calls.set(command.name, n);
    const failure = this.failures.find((f) => f.command === command.name && f.call === n);
    if (failure) throw failure.error;
  }

  /** The value under a label, as a reader of the secret would get it. */
  valueAt(secretId: string, stage: string): string | undefined {
    for (const v of this.versions(secretId).values()) if (v.stages.has(stage)) return v.value;
    return undefined;
  }

  labels(secretId: string): Record<string, string[]> {
    return Object.fromEntries(
      [...this.versions(secretId)].map(([id, v]) => [id, [...v.stages].sort()]),
    );
  }

  /** A secret with one AWSCURRENT version, as an earlier rotation would leave it. */
  seed(secretId: string, value: string, versionId = 'v-initial'): void {
    this.secrets.set(secretId, new Map([[versionId, { value, stages: new Set(['AWSCURRENT']) }]]));
  }

  private versions(secretId: string): Map<string, Version> {
    const s = this.secrets.get(secretId);
    if (!s) {
      throw awsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return s;
  }

  private moveLabel(versions: Map<string, Version>, label: string, to: string): void {
    for (const [id, v] of versions) {
      if (id !== to && v.stages.delete(label) && label === 'AWSCURRENT') {
        for (const other of versions.values()) other.stages.delete('AWSPREVIOUS');
        v.stages.add('AWSPREVIOUS');
      }
    }
    versions.get(to)!.stages.add(label);
  }

  private install(): void {
    this.mock
      .on(CreateSecretCommand)
      .callsFake((input: { Name: string; SecretString?: string }) => {
        this.count(CreateSecretCommand);
        if (this.secrets.has(input.Name)) {
          throw awsError('ResourceExistsException', 'The secret already exists.');
        }
        this.secrets.set(input.Name, new Map());
        return { Name: input.Name, ARN: `arn:aws:secretsmanager:sa-east-1:1:secret:${input.Name}` };
      });

    this.mock.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
      this.count(DescribeSecretCommand);
      return { Name: input.SecretId, VersionIdsToStages: this.labels(input.SecretId) };
    });

    this.mock
      .on(GetSecretValueCommand)
      .callsFake((input: { SecretId: string; VersionId?: string; VersionStage?: string }) => {
        this.count(GetSecretValueCommand);
        const versions = this.versions(input.SecretId);
        const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
        for (const [id, v] of versions) {
          if (
            (input.VersionId === undefined || input.VersionId === id) &&
            (stage === undefined || v.stages.has(stage))
          ) {
            return { VersionId: id, SecretString: v.value, VersionStages: [...v.stages] };
          }
        }
        throw awsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: " + stage,
        );
      });

    this.mock
      .on(PutSecretValueCommand)
      .callsFake(
        (input: {
          SecretId: string;
          ClientRequestToken: string;
          SecretString: string;
          VersionStages?: string[];
        }) => {
          this.count(PutSecretValueCommand);
          const versions = this.versions(input.SecretId);
          const existing = versions.get(input.ClientRequestToken);
          if (existing && existing.value !== input.SecretString) {
            throw awsError('ResourceExistsException', 'A version with this token already exists.');
          }
          if (!existing) {
            versions.set(input.ClientRequestToken, {
              value: input.SecretString,
              stages: new Set(),
            });
          }
          for (const label of input.VersionStages ?? ['AWSCURRENT']) {
            this.moveLabel(versions, label, input.ClientRequestToken);
          }
          return { VersionId: input.ClientRequestToken };
        },
      );

    this.mock
      .on(UpdateSecretVersionStageCommand)
      .callsFake(
        (input: {
          SecretId: string;
          VersionStage: string;
          MoveToVersionId?: string;
          RemoveFromVersionId?: string;
        }) => {
          this.count(UpdateSecretVersionStageCommand);
          const versions = this.versions(input.SecretId);
          const holder = [...versions].find(([, v]) => v.stages.has(input.VersionStage))?.[0];
          if (input.MoveToVersionId) {
            if (!versions.has(input.MoveToVersionId)) {
              throw awsError('ResourceNotFoundException', 'No such version.');
            }
            if (
              holder &&
              holder !== input.MoveToVersionId &&
              holder !== input.RemoveFromVersionId
            ) {
              throw awsError(
                'InvalidParameterException',
                `The staging label ${input.VersionStage} is currently attached to version ${holder}, ` +
                  'so you must explicitly reference that version in RemoveFromVersionId.',
              );
            }
            this.moveLabel(versions, input.VersionStage, input.MoveToVersionId);
          } else if (input.RemoveFromVersionId) {
            versions.get(input.RemoveFromVersionId)?.stages.delete(input.VersionStage);
          }
          return { Name: input.SecretId };
        },
      );
  }
}
