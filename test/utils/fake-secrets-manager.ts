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
  created: Date;
}

interface Secret {
  arn: string;
  created: Date;
  versions: Map<string, Version>;
}

const REGION = 'sa-east-1';
const ACCOUNT = '123456789012';
/** Secrets Manager appends a hyphen and six random characters to the name in a secret's ARN. */
const arnFor = (name: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${Math.random().toString(36).slice(2, 8).padEnd(6, 'x')}`;

/**
 * Secrets Manager as far as the rotation uses it, in memory, on top of aws-sdk-client-mock, with
 * the response shapes of the AWS API reference: secrets addressed by name or ARN (the ARN ends
 * in "-" and six random characters), versions with staging labels, a label on one version at a
 * time, AWSPREVIOUS set when AWSCURRENT moves, AWSCURRENT attached automatically to a secret's
 * first version whatever PutSecretValue's VersionStages say, idempotent PutSecretValue per
 * ClientRequestToken, and the errors the real service answers when a call does not fit.
 */
export class FakeSecretsManager {
  /** By name. */
  readonly secrets = new Map<string, Secret>();
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
    const created = new Date();
    this.secrets.set(secretId, {
      arn: arnFor(secretId),
      created,
      versions: new Map([[versionId, { value, stages: new Set(['AWSCURRENT']), created }]]),
    });
  }

  /** Someone else writes a value as AWSCURRENT (aws secretsmanager put-secret-value). */
  putCurrent(secretId: string, value: string, versionId: string): void {
    const versions = this.versions(secretId);
    versions.set(versionId, { value, stages: new Set(), created: new Date() });
    this.moveLabel(versions, 'AWSCURRENT', versionId);
  }

  arnOf(secretId: string): string {
    return this.secret(secretId).arn;
  }

  private secret(secretId: string): Secret {
    const s =
      this.secrets.get(secretId) ?? [...this.secrets.values()].find((x) => x.arn === secretId);
    if (!s) {
      throw awsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return s;
  }

  private versions(secretId: string): Map<string, Version> {
    return this.secret(secretId).versions;
  }

  private nameOf(secretId: string): string {
    const s = this.secret(secretId);
    return [...this.secrets].find(([, x]) => x === s)![0];
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
          throw awsError(
            'ResourceExistsException',
            `The operation failed because the secret ${input.Name} already exists.`,
          );
        }
        const secret = { arn: arnFor(input.Name), created: new Date(), versions: new Map() };
        this.secrets.set(input.Name, secret);
        return { ARN: secret.arn, Name: input.Name };
      });

    this.mock.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
      this.count(DescribeSecretCommand);
      const secret = this.secret(input.SecretId);
      const stages = this.labels(input.SecretId);
      return {
        ARN: secret.arn,
        Name: this.nameOf(input.SecretId),
        Description: 'portal-api: a user password kept by tools/rotate-password',
        CreatedDate: secret.created,
        LastChangedDate: new Date(),
        // Absent until the secret has a version, as AWS answers it.
        ...(Object.keys(stages).length > 0 ? { VersionIdsToStages: stages } : {}),
      };
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
            return {
              ARN: this.arnOf(input.SecretId),
              Name: this.nameOf(input.SecretId),
              VersionId: id,
              SecretString: v.value,
              VersionStages: [...v.stages],
              CreatedDate: v.created,
            };
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
          const first = versions.size === 0;
          if (!existing) {
            versions.set(input.ClientRequestToken, {
              value: input.SecretString,
              stages: new Set(),
              created: new Date(),
            });
          }
          const labels = new Set(input.VersionStages ?? ['AWSCURRENT']);
          // "If this operation creates the first version for the secret, then Secrets Manager
          // automatically attaches the staging label AWSCURRENT to the new version."
          if (first) labels.add('AWSCURRENT');
          for (const label of labels) this.moveLabel(versions, label, input.ClientRequestToken);
          const stages = [...versions.get(input.ClientRequestToken)!.stages];
          return {
            ARN: this.arnOf(input.SecretId),
            Name: this.nameOf(input.SecretId),
            VersionId: input.ClientRequestToken,
            VersionStages: stages,
          };
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
          return { ARN: this.arnOf(input.SecretId), Name: this.nameOf(input.SecretId) };
        },
      );
  }
}
