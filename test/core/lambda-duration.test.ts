import { describe, expect, it } from 'vitest';
import { billedMs, fitLine, MB_PER_VCPU } from '../../core/cost/lambda-duration.ts';

describe('billed duration of an invocation measured on a whole core', () => {
  it('GIVEN a function below one vCPU of memory THEN its CPU time stretches by its share and its waiting does not', () => {
    // 10 ms of CPU and 5 ms waiting, at a quarter of a vCPU.
    const billed = billedMs({ readings: 5, cpuMs: 10, wallMs: 15 }, MB_PER_VCPU / 4);

    expect(billed).toBeCloseTo(10 * 4 + 5, 9);
  });

  it('GIVEN a function of a vCPU or more THEN CPU time is billed as measured', () => {
    expect(billedMs({ readings: 5, cpuMs: 10, wallMs: 15 }, 3008)).toBeCloseTo(15, 9);
  });

  it('GIVEN more CPU time than wall time (background threads) THEN no negative wait is subtracted', () => {
    expect(billedMs({ readings: 5, cpuMs: 12, wallMs: 10 }, MB_PER_VCPU)).toBeCloseTo(12, 9);
  });

  it('GIVEN a memory size Lambda does not offer THEN it is refused naming the value', () => {
    expect(() => billedMs({ readings: 1, cpuMs: 1, wallMs: 1 }, 64)).toThrow(
      "memoryMb must be Lambda's 128 to 10,240, got 64",
    );
  });
});

describe('least-squares line', () => {
  it('GIVEN points on a line THEN it finds its intercept and slope', () => {
    const line = fitLine([1, 10, 100].map((x) => ({ x, y: 12 + 0.75 * x })));

    expect(line.intercept).toBeCloseTo(12, 9);
    expect(line.slope).toBeCloseTo(0.75, 9);
  });

  it('GIVEN scattered points THEN the line minimises the squared error', () => {
    // (0,1), (1,3), (2,2): mean x 1, mean y 2, slope 0.5, intercept 1.5.
    const line = fitLine([
      { x: 0, y: 1 },
      { x: 1, y: 3 },
      { x: 2, y: 2 },
    ]);

    expect(line).toEqual({ intercept: 1.5, slope: 0.5 });
  });

  it('GIVEN points at one x only THEN no line is made up', () => {
    expect(() =>
      fitLine([
        { x: 5, y: 1 },
        { x: 5, y: 2 },
      ]),
    ).toThrow('a line needs points at two or more x');
  });
});
