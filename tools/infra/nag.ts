import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag findings on a construct (and what it contains), each with the reason it
 * is acceptable here. Findings of rules with several per resource (IAM5) are named one by one,
 * e.g. 'AwsSolutions-IAM5[Resource::*]'.
 */
export function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) {
    if (reason.trim().length < 20) throw new Error(`acknowledging ${id} needs a real reason`);
    Validations.of(scope).acknowledge({ id, reason });
  }
}
