import type { ModelVersionView } from '../../core/operators/ports.ts';
import { ago, h } from '../dom.ts';

/**
 * The use case's newest model versions: the live one, and candidates waiting for a person's
 * approval with how they compare with the live model on held-out verdicts. Approval itself stays in
 * `aiot model approve` locally and in SageMaker's Model Registry in the cloud (four eyes).
 */
export function modelVersionsSection(models: readonly ModelVersionView[] | null): HTMLElement | null {
  if (models === null) return null;
  const columns = ['Version', 'Status', 'Trained by', 'When', 'Compared with the live model', 'About'];
  const rows = models.map((m) =>
    h(
      'tr',
      { attrs: { 'data-version': m.version, 'data-status': m.status } },
      ...[
        m.version,
        h('strong', {}, m.status),
        m.trainedBy,
        m.trainedAt === null ? '–' : ago(m.trainedAt),
        m.comparison ?? '–',
        m.about,
      ].map((cell, i) => h('td', { attrs: { 'data-label': columns[i] ?? '' } }, cell)),
    ),
  );
  const pending = models.filter((m) => m.status === 'pending').length;
  return h(
    'section',
    { className: 'model-versions' },
    h('h2', {}, 'Model versions'),
    h(
      'p',
      { className: 'muted' },
      pending > 0
        ? `${pending} ${pending === 1 ? 'candidate waits' : 'candidates wait'} for a second person's approval; nothing changes the live model before that.`
        : 'No candidate waits for approval.',
    ),
    models.length === 0
      ? h('p', { className: 'muted' }, 'No version registered yet.')
      : h(
          'table',
          { className: 'list', attrs: { 'data-table': 'model-versions' } },
          h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { attrs: { scope: 'col' } }, c)))),
          h('tbody', {}, ...rows),
        ),
  );
}
