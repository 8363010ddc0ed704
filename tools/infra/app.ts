import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Annotations, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENVIRONMENTS, readContext, SETTINGS, UNSET_REPOSITORY } from './config';
import { ServiceStack } from './service-stack';
import { SharedStack } from './shared-stack';

const STRONG_REFERENCES_FLAG = '@aws-cdk/core:defaultCrossStackReferences';

export interface PortalApiApp {
  app: App;
  shared: SharedStack;
  environments: Record<(typeof ENVIRONMENTS)[number], ServiceStack>;
}

/**
 * The AWS stacks of portal-api: `portal-api-shared` (ECR, GitHub OIDC, the image push role) and
 * one `portal-api-<env>` per environment. cdk-nag's AwsSolutions checks run at synthesis: an
 * unacknowledged finding fails it. Context keys: tools/infra/config.ts and docs/deploy.md.
 */
export function buildApp(app: App = new App()): PortalApiApp {
  // Cross-stack references (the shared repository and OIDC provider) stay strong exports: a
  // stack still in use cannot lose them.
  if (app.node.tryGetContext(STRONG_REFERENCES_FLAG) === undefined) {
    app.node.setContext(STRONG_REFERENCES_FLAG, 'strong');
  }
  const ctx = readContext((key) => app.node.tryGetContext(key));
  const env = { account: ctx.account, region: ctx.region };
  const shared = new SharedStack(app, 'portal-api-shared', {
    env,
    description: 'portal-api: ECR repository, GitHub OIDC provider, image push role',
    githubRepository: ctx.githubRepository,
    githubOidcProviderArn: ctx.githubOidcProviderArn,
  });
  const environments = {} as PortalApiApp['environments'];
  for (const name of ENVIRONMENTS) {
    environments[name] = new ServiceStack(app, `portal-api-${name}`, {
      env,
      description: `portal-api ${name}: network, PostgreSQL, ECS service, purge schedule, IAM`,
      settings: SETTINGS[name],
      context: ctx.environments[name],
      repository: shared.repository,
      githubRepository: ctx.githubRepository,
      githubOidcProviderArn: shared.githubOidcProviderArn,
      adotImage: ctx.adotImage,
    });
    if (!ctx.environments[name].image) {
      Annotations.of(environments[name]).addWarningV2(
        'portal-api:image',
        `no -c ${name}:image=...: the task definition names ${'<repository>'}:latest`,
      );
    }
  }
  if (ctx.githubRepository === UNSET_REPOSITORY) {
    for (const stack of [shared, ...Object.values(environments)] as Stack[]) {
      Annotations.of(stack).addWarningV2(
        'portal-api:githubRepository',
        'no -c githubRepository=OWNER/REPO: the CI roles trust no workflow',
      );
    }
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, shared, environments };
}

/**
 * `-c key=value` / `--context key=value` arguments (npm run infra:synth -- -c dev:adot=true), over
 * the lookups cached in tools/infra/cdk.context.json. Under the CDK CLI (cdk.json) neither is
 * needed: the CLI hands the context over itself.
 */
export function contextFromArgs(argv: string[], cacheFile?: string): Record<string, unknown> {
  const context: Record<string, unknown> =
    cacheFile && existsSync(cacheFile)
      ? (JSON.parse(readFileSync(cacheFile, 'utf8')) as Record<string, unknown>)
      : {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '-c' && argv[i] !== '--context') {
      throw new Error(`unknown argument ${argv[i]}: only -c key=value is understood`);
    }
    const pair = argv[++i] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`-c needs key=value, got "${pair}"`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

if (require.main === module) {
  const underCli = process.env.CDK_CONTEXT_JSON !== undefined;
  const { app } = buildApp(
    new App({
      outdir: process.env.CDK_OUTDIR ?? join(__dirname, 'cdk.out'),
      context: underCli
        ? undefined
        : contextFromArgs(process.argv.slice(2), join(__dirname, 'cdk.context.json')),
    }),
  );
  const assembly = app.synth();
  if (!underCli) {
    // (The CLI prints these itself.)
    for (const stack of assembly.stacks) {
      for (const m of stack.messages) {
        console.warn(`${m.level}: ${m.id}: ${JSON.stringify(m.entry.data)}`);
      }
    }
    console.log(
      `synthesized ${assembly.stacks.map((s) => s.stackName).join(', ')} to ${assembly.directory}`,
    );
  }
}
