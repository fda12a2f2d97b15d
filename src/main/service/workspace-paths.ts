/**
 * Where a user-typed root points. In browser mode every root must stay inside the
 * workspace — after resolving `..` and following symlinks of whatever part already
 * exists — because the server acts on the local disk for a browser tab. The Electron app
 * and the CLI are the user's own programs and are not confined.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { StudyError } from '../../shared/errors';

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** realpath of the deepest existing ancestor, with the not-yet-existing rest appended. */
function realpathLenient(p: string): string {
  let existing = p;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(existing.slice(parent.length).replace(/^[/\\]/, ''));
    existing = parent;
  }
  return resolve(realpathSync(existing), ...rest);
}

export function resolveRoot(input: string, base: string, confineTo: string | null): string {
  const abs = resolve(base, input);
  if (confineTo === null) return abs;
  const workspace = realpathLenient(resolve(confineTo));
  const real = realpathLenient(abs);
  if (!isInside(resolve(confineTo), abs) && !isInside(workspace, abs)) {
    throw new StudyError('PATH_OUTSIDE_WORKSPACE', `'${input}' is outside the workspace`, {
      file: abs,
      expected: `a folder inside ${confineTo}`,
    });
  }
  if (!isInside(workspace, real)) {
    throw new StudyError('PATH_OUTSIDE_WORKSPACE', `'${input}' leads outside the workspace through a symbolic link`, {
      file: abs,
      found: real,
      expected: `a folder inside ${confineTo}`,
    });
  }
  return abs;
}
