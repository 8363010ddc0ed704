import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EnvironmentName } from './config';

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/**
 * The `sub` claims the CI roles trust. GitHub's default subject of a job in an environment
 * (`repo:O/R:environment:dev`) does not say which branch it runs on, and AWS can check no claim
 * but `sub` and `aud`. So the repository's subject template includes the ref (once, by an
 * admin; docs/deploy.md shows the command):
 *   {"use_default": false, "include_claim_keys": ["repo", "context", "ref"]}
 * and a deploy job of environment dev on main presents
 *   repo:O/R:environment:dev:ref:refs/heads/main
 * which a job of the same environment on any other branch cannot.
 */
export function deploySubjects(repository: string, environment: EnvironmentName): string[] {
  return [`repo:${repository}:environment:${environment}:ref:refs/heads/main`];
}

/**
 * The image job runs in no environment, on main: its subject is the same with or without the
 * template above (the context, then the ref claim), and either form means main.
 */
export function pushSubjects(repository: string): string[] {
  return [
    `repo:${repository}:ref:refs/heads/main`,
    `repo:${repository}:ref:refs/heads/main:ref:refs/heads/main`,
  ];
}

/** A role that GitHub Actions jobs with one of these subjects may assume, and nothing else. */
export function githubRole(
  scope: Construct,
  id: string,
  props: { providerArn: string; subjects: string[]; description: string; roleName?: string },
): iam.Role {
  return new iam.Role(scope, id, {
    roleName: props.roleName,
    description: props.description,
    maxSessionDuration: Duration.hours(1),
    assumedBy: new iam.WebIdentityPrincipal(props.providerArn, {
      StringEquals: {
        [`${GITHUB_OIDC_HOST}:aud`]: 'sts.amazonaws.com',
        [`${GITHUB_OIDC_HOST}:sub`]: props.subjects,
      },
    }),
  });
}
