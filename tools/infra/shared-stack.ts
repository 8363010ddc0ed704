import { CfnOutput, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GITHUB_OIDC_HOST, githubRole, pushSubjects } from './github';
import { acknowledge } from './nag';

export interface SharedStackProps extends StackProps {
  githubRepository: string;
  /** Use the account's existing GitHub OIDC provider instead of creating it. */
  githubOidcProviderArn?: string;
}

/**
 * What both environments share: the image repository (one image is built, then promoted from
 * dev to production by digest), GitHub's OIDC provider, and the role that pushes images.
 */
export class SharedStack extends Stack {
  readonly repository: ecr.Repository;
  readonly githubOidcProviderArn: string;
  readonly pushRole: iam.Role;

  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, props);
    Tags.of(this).add('project', 'portal-api');

    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: 'portal-api',
      imageScanOnPush: true,
      // Tags are commit SHAs and deploys go by digest: a tag never moves.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          description: 'keep the last 100 images (every rollback target of a few months)',
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: 100,
        },
      ],
    });

    this.githubOidcProviderArn =
      props.githubOidcProviderArn ??
      new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIds: ['sts.amazonaws.com'],
      }).oidcProviderArn;

    this.pushRole = githubRole(this, 'ImagePushRole', {
      providerArn: this.githubOidcProviderArn,
      subjects: pushSubjects(props.githubRepository),
      description: 'GitHub Actions (main): push portal-api images to ECR',
    });
    this.pushRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    this.pushRole.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart',
          'ecr:CompleteLayerUpload',
          'ecr:PutImage',
          'ecr:BatchGetImage',
        ],
        resources: [this.repository.repositoryArn],
      }),
    );
    acknowledge(this.pushRole, {
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken has no resource-level permissions; every other ECR action is limited to the repository',
    });

    new CfnOutput(this, 'EcrRepository', {
      value: this.repository.repositoryName,
      description: 'GitHub repository variable ECR_REPOSITORY',
    });
    new CfnOutput(this, 'EcrPushRoleArn', {
      value: this.pushRole.roleArn,
      description: 'GitHub repository variable AWS_ECR_PUSH_ROLE_ARN',
    });
  }
}
