import type { Finding } from './ports.ts';

/** Makes a finding of the run's use case and window from what a check found. */
export type MakeFinding = (partial: Omit<Finding, 'useCase' | 'from' | 'to' | 'at'>) => Finding;

export const round = (value: number, digits = 4): number => Math.round(value * 10 ** digits) / 10 ** digits;
export const percent = (share: number): string => `${round(share * 100, 2)}%`;
