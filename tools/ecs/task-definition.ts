import type {
  ContainerDefinition,
  RegisterTaskDefinitionCommandInput,
  Tag,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { ExitCode, ToolError } from './common';

/**
 * The container the tool deploys to and runs commands in: the one named by --container,
 * else the only container, else the one called "app".
 */
export function pickContainer(td: TaskDefinition, wanted?: string): ContainerDefinition {
  const containers = td.containerDefinitions ?? [];
  const names = containers.map((c) => c.name).join(', ') || '(none)';
  if (wanted) {
    const found = containers.find((c) => c.name === wanted);
    if (!found) {
      throw new ToolError(
        ExitCode.USAGE,
        `the task definition ${td.family}:${td.revision} has no container "${wanted}" (it has: ${names})`,
      );
    }
    return found;
  }
  if (containers.length === 1) return containers[0];
  const app = containers.find((c) => c.name === 'app');
  if (app) return app;
  throw new ToolError(
    ExitCode.USAGE,
    `the task definition ${td.family}:${td.revision} has several containers (${names}): pick one with --container`,
  );
}

/**
 * The input for RegisterTaskDefinition that registers td again as it is. Fields ECS sets itself
 * (ARN, revision, status, dates) are left out; every other field, present or future, is kept.
 */
export function registerInputOf(
  td: TaskDefinition,
  tags: Tag[] = [],
): RegisterTaskDefinitionCommandInput {
  const {
    taskDefinitionArn: _arn,
    revision: _revision,
    status: _status,
    requiresAttributes: _requiresAttributes,
    compatibilities: _compatibilities,
    registeredAt: _registeredAt,
    registeredBy: _registeredBy,
    deregisteredAt: _deregisteredAt,
    deleteRequestedAt: _deleteRequestedAt,
    ...rest
  } = td;
  const input: RegisterTaskDefinitionCommandInput = {
    ...rest,
    family: td.family,
    containerDefinitions: td.containerDefinitions ?? [],
  };
  if (tags.length > 0) input.tags = tags;
  return input;
}

/** The current definition with the image of one container replaced. */
export function withImage(
  td: TaskDefinition,
  containerName: string,
  image: string,
  tags: Tag[] = [],
): RegisterTaskDefinitionCommandInput {
  const input = registerInputOf(td, tags);
  input.containerDefinitions = (input.containerDefinitions ?? []).map((c) =>
    c.name === containerName ? { ...c, image } : c,
  );
  return input;
}

type Flat = Map<string, string>;

function flatten(value: unknown, path: string, out: Flat): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, '[]');
    value.forEach((item, i) => {
      // Containers, environment entries and tags are named: key them by name, not position.
      const named =
        item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string'
          ? (item as { name: string }).name
          : item && typeof item === 'object' && typeof (item as { key?: unknown }).key === 'string'
            ? (item as { key: string }).key
            : undefined;
      flatten(item, `${path}[${named ?? i}]`, out);
    });
    return;
  }
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) => v !== undefined,
    );
    if (entries.length === 0) out.set(path, '{}');
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
    return;
  }
  out.set(path, JSON.stringify(value));
}

/** A line per changed leaf: "~ path: old -> new", "+ path: new", "- path: old". */
export function diffTaskDefinitions(
  before: RegisterTaskDefinitionCommandInput,
  after: RegisterTaskDefinitionCommandInput,
): string[] {
  const a: Flat = new Map();
  const b: Flat = new Map();
  flatten(before, '', a);
  flatten(after, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const lines: string[] = [];
  for (const p of paths) {
    const x = a.get(p);
    const y = b.get(p);
    if (x === y) continue;
    if (x === undefined) lines.push(`+ ${p}: ${y}`);
    else if (y === undefined) lines.push(`- ${p}: ${x}`);
    else lines.push(`~ ${p}: ${x} -> ${y}`);
  }
  return lines;
}
