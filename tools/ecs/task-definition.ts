import {
  ContainerDefinition,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionRequest$,
  Tag,
  TaskDefinition,
} from '@aws-sdk/client-ecs';
import { NormalizedSchema } from '@smithy/core/schema';
import { ExitCode, ToolError } from './common';
import { captureRawJson } from './raw-response';

/**
 * Tags the tools put on the task definition revisions they register. The infra stream's CDK app
 * (tools/infra) uses the same keys.
 */
export const TAG_GIT_SHA = 'portal-api:git-sha';
/** "failed" (the migration failed) or "rolled-back": the revision was then deregistered. */
export const TAG_STATUS = 'portal-api:status';
/** Who registered the revision: "cdk" (tools/infra) or "deploy-tool" (this tool). */
export const TAG_MANAGED_BY = 'portal-api:managed-by';
export const MANAGED_BY_DEPLOY_TOOL = 'deploy-tool';
export const MANAGED_BY_CDK = 'cdk';

/** Fields DescribeTaskDefinition answers that ECS sets itself: never part of a registration. */
const READ_ONLY_FIELDS = [
  'taskDefinitionArn',
  'revision',
  'status',
  'requiresAttributes',
  'compatibilities',
  'registeredAt',
  'registeredBy',
  'deregisteredAt',
  'deleteRequestedAt',
] as const;

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

export function tagValue(tags: Tag[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.key === key)?.value;
}

/**
 * Tags a new revision may carry over: ECS refuses keys with the reserved "aws:" prefix (in any
 * case; CloudFormation puts aws:cloudformation:* on what CDK registers), and the tools' own
 * stamps describe one revision only, so they are never copied.
 */
export function copyableTags(tags: Tag[] = []): Tag[] {
  const own = new Set([TAG_GIT_SHA, TAG_STATUS, TAG_MANAGED_BY]);
  return tags.filter((t) => t.key && !/^aws:/i.test(t.key) && !own.has(t.key));
}

/** The tags of a revision this tool registers: the copyable ones plus its own stamps. */
export function stampedTags(tags: Tag[] = [], gitSha?: string): Tag[] {
  return [
    ...copyableTags(tags),
    { key: TAG_MANAGED_BY, value: MANAGED_BY_DEPLOY_TOOL },
    ...(gitSha ? [{ key: TAG_GIT_SHA, value: gitSha }] : []),
  ];
}

/**
 * The input for RegisterTaskDefinition that registers td again: the fields ECS sets itself are
 * left out, the others are copied. Only the fields the installed SDK knows survive: its
 * deserializer drops unknown members from DescribeTaskDefinition's answer and its serializer
 * drops them from RegisterTaskDefinition's input (see fieldsTheSdkDrops). Tags are copied
 * through copyableTags.
 */
export function registerInputOf(
  td: TaskDefinition,
  tags: Tag[] = [],
): RegisterTaskDefinitionCommandInput {
  const rest: Record<string, unknown> = { ...td };
  for (const field of READ_ONLY_FIELDS) delete rest[field];
  const input: RegisterTaskDefinitionCommandInput = {
    ...(rest as Omit<TaskDefinition, (typeof READ_ONLY_FIELDS)[number]>),
    family: td.family,
    containerDefinitions: td.containerDefinitions ?? [],
  };
  const kept = copyableTags(tags);
  if (kept.length > 0) input.tags = kept;
  return input;
}

/** The definition with the image of one container replaced, stamped with the tool's tags. */
export function withImage(
  td: TaskDefinition,
  containerName: string,
  image: string,
  tags: Tag[] = [],
  gitSha?: string,
): RegisterTaskDefinitionCommandInput {
  const input = registerInputOf(td);
  input.containerDefinitions = (input.containerDefinitions ?? []).map((c) =>
    c.name === containerName ? { ...c, image } : c,
  );
  input.tags = stampedTags(tags, gitSha);
  return input;
}

function label(item: unknown, index: number): string {
  if (item && typeof item === 'object') {
    const o = item as { name?: unknown; key?: unknown };
    if (typeof o.name === 'string') return o.name;
    if (typeof o.key === 'string') return o.key;
  }
  return String(index);
}

function unknownMembers(value: unknown, schema: NormalizedSchema, path: string, out: string[]) {
  if (value === null || value === undefined || typeof value !== 'object') return;
  if (schema.isStructSchema()) {
    if (Array.isArray(value)) return;
    const members = schema.getMemberSchemas();
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const at = path ? `${path}.${key}` : key;
      if (!(key in members)) out.push(at);
      else unknownMembers(v, members[key], at, out);
    }
  } else if (schema.isListSchema() && Array.isArray(value)) {
    const item = schema.getValueSchema();
    value.forEach((v, i) => unknownMembers(v, item, `${path}[${label(v, i)}]`, out));
  } else if (schema.isMapSchema() && !Array.isArray(value)) {
    const item = schema.getValueSchema();
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      unknownMembers(v, item, `${path}.${key}`, out);
    }
  }
}

/**
 * The fields of a task definition (as ECS answered it, raw JSON when available) that the new
 * revision would not get: those the installed SDK's model of RegisterTaskDefinition does not
 * have. A field AWS added after this SDK release is dropped silently by the SDK.
 */
export function fieldsTheSdkDrops(taskDefinition: unknown): string[] {
  if (!taskDefinition || typeof taskDefinition !== 'object') return [];
  const rest: Record<string, unknown> = { ...(taskDefinition as Record<string, unknown>) };
  for (const field of READ_ONLY_FIELDS) delete rest[field];
  const out: string[] = [];
  unknownMembers(rest, NormalizedSchema.of(RegisterTaskDefinitionRequest$), '', out);
  return out.sort();
}

export interface DescribedTaskDefinition {
  taskDefinition: TaskDefinition;
  tags: Tag[];
  /** Fields of ECS's answer a registration through this SDK would lose (fieldsTheSdkDrops). */
  dropped: string[];
}

/** DescribeTaskDefinition with its tags, and the fields the SDK cannot carry over. */
export async function describeTaskDefinition(
  ecs: ECSClient,
  ref: string,
): Promise<DescribedTaskDefinition> {
  const command = new DescribeTaskDefinitionCommand({ taskDefinition: ref, include: ['TAGS'] });
  let raw: unknown;
  captureRawJson(command, (json) => {
    raw = json;
  });
  const res = await ecs.send(command);
  const td = res.taskDefinition;
  if (!td?.taskDefinitionArn) throw new ToolError(ExitCode.USAGE, `cannot read ${ref}`);
  const rawTd = (raw as { taskDefinition?: unknown } | undefined)?.taskDefinition;
  return { taskDefinition: td, tags: res.tags ?? [], dropped: fieldsTheSdkDrops(rawTd ?? td) };
}

type Flat = Map<string, string>;

function flatten(value: unknown, path: string, out: Flat): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, '[]');
    // Containers, environment entries and tags are named: key them by name, not position.
    value.forEach((item, i) => flatten(item, `${path}[${label(item, i)}]`, out));
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
