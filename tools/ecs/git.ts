import { execFile } from 'node:child_process';

export type Ancestry = 'ancestor' | 'not-ancestor' | { unknown: string };

/** The one git question the deploy tool asks, behind an interface. */
export interface Git {
  /** Whether `ancestor` is `descendant` or one of its ancestors. */
  ancestry(ancestor: string, descendant: string): Promise<Ancestry>;
}

/**
 * `git merge-base --is-ancestor` in the working copy at cwd: exit 0 yes, 1 no, anything else
 * (an unknown commit: a shallow clone, a rewritten history; no repository) says why it cannot
 * tell.
 */
export function localGit(cwd = process.cwd()): Git {
  return {
    ancestry: (ancestor, descendant) =>
      new Promise((resolve) => {
        execFile(
          'git',
          ['merge-base', '--is-ancestor', ancestor, descendant],
          { cwd, timeout: 30_000 },
          (err, _stdout, stderr) => {
            if (!err) return resolve('ancestor');
            const code = (err as { code?: unknown }).code;
            if (code === 1) return resolve('not-ancestor');
            resolve({ unknown: (String(stderr).trim() || err.message).split('\n')[0] });
          },
        );
      }),
  };
}
