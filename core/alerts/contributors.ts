import type { Contributor } from '../model/anomaly-model.ts';

const TOP_CONTRIBUTORS = 3;
/** Contributors explaining less than this share of the score are noise to a reader. */
const MIN_CONTRIBUTOR_SHARE = 0.05;

/** The sensors behind an alert worth showing: the largest shares, always at least the first. */
export function topContributors(alert: {
  readonly contributors: readonly Contributor[];
}): readonly Contributor[] {
  const ranked = [...alert.contributors].sort((a, b) => b.share - a.share);
  return ranked
    .filter((c, index) => index === 0 || c.share >= MIN_CONTRIBUTOR_SHARE)
    .slice(0, TOP_CONTRIBUTORS);
}
