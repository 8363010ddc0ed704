import { taskDefinition, NEW_IMAGE, taskArn } from '../../test/utils/ecs-fakes';
import { ExitCode } from './common';
import { logStreamOf } from './logs';
import { placementOf } from './run-task';
import { diffTaskDefinitions, pickContainer, registerInputOf, withImage } from './task-definition';

describe('task definition helpers', () => {
  it('diffs by container and variable name, not by position', () => {
    const before = taskDefinition(1);
    const after = taskDefinition(1, NEW_IMAGE);
    after.containerDefinitions![0].environment = [
      { name: 'LOG_LEVEL', value: 'debug' },
      ...(before.containerDefinitions![0].environment ?? []).filter((e) => e.name !== 'NODE_ENV'),
    ];
    after.cpu = '1024';
    expect(diffTaskDefinitions(registerInputOf(before), registerInputOf(after))).toEqual([
      '+ containerDefinitions[app].environment[LOG_LEVEL].name: "LOG_LEVEL"',
      '+ containerDefinitions[app].environment[LOG_LEVEL].value: "debug"',
      '- containerDefinitions[app].environment[NODE_ENV].name: "NODE_ENV"',
      '- containerDefinitions[app].environment[NODE_ENV].value: "production"',
      `~ containerDefinitions[app].image: "${before.containerDefinitions![0].image}" -> "${NEW_IMAGE}"`,
      '~ cpu: "512" -> "1024"',
    ]);
  });

  it('has no diff for the same definition', () => {
    const td = taskDefinition(1);
    expect(
      diffTaskDefinitions(
        registerInputOf(td),
        withImage(td, 'app', td.containerDefinitions![0].image!),
      ),
    ).toEqual([]);
  });

  it('changes only the chosen container', () => {
    const td = taskDefinition(1);
    td.containerDefinitions!.push({ name: 'sidecar', image: 'envoy:1' });
    const input = withImage(td, 'app', NEW_IMAGE);
    expect(input.containerDefinitions!.map((c) => c.image)).toEqual([NEW_IMAGE, 'envoy:1']);
    expect(td.containerDefinitions![0].image).not.toBe(NEW_IMAGE); // the input is not mutated
    expect(pickContainer(td).name).toBe('app');
    expect(pickContainer(td, 'sidecar').name).toBe('sidecar');
    expect(() => pickContainer(td, 'nope')).toThrow(
      expect.objectContaining({ exitCode: ExitCode.USAGE }),
    );
  });

  it('finds the awslogs stream of a task, or says why not', () => {
    const td = taskDefinition(1);
    expect(logStreamOf(td, 'app', taskArn('abc123'))).toEqual({
      group: '/ecs/portal-api',
      region: 'sa-east-1',
      stream: 'ecs/app/abc123',
    });
    td.containerDefinitions![0].logConfiguration = { logDriver: 'awsfirelens' };
    expect(logStreamOf(td, 'app', taskArn('abc123'))).toEqual({
      missing: 'container "app" does not log with the awslogs driver',
    });
  });

  it('places a one-off task like the service', () => {
    expect(placementOf({ launchType: 'FARGATE', platformVersion: '1.4.0' })).toEqual({
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      networkConfiguration: undefined,
    });
    expect(
      placementOf({
        launchType: 'FARGATE',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      }),
    ).toEqual({
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      networkConfiguration: undefined,
    });
  });
});
