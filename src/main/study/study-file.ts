/** Loading a study file (JSON) that overrides the design's constants. */
import { readFileSync } from 'node:fs';
import { StudyError } from '../../shared/errors';
import { defaultStudyDesign, mergeStudyDesign, type StudyDesign, StudyFile } from '../../shared/study';

export function loadStudyDesign(path: string): StudyDesign {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StudyError('BAD_INPUT', `cannot read the study file: ${(e as Error).message}`, { file: path });
  }
  const file = StudyFile.safeParse(json);
  if (!file.success) {
    const issue = file.error.issues[0];
    throw new StudyError('BAD_INPUT', `study file: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      file: path,
      key: issue.path.join('.'),
    });
  }
  try {
    return mergeStudyDesign(defaultStudyDesign(), file.data);
  } catch (e) {
    const issues = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const first = issues?.[0];
    throw new StudyError(
      'BAD_INPUT',
      `study file: ${first ? `${first.path.map(String).join('.')}: ${first.message}` : String(e)}`,
      { file: path },
    );
  }
}
