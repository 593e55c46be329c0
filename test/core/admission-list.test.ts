import { describe, expect, it } from 'vitest';
import {
  MAX_ADMISSION_LIST_BYTES,
  MAX_ADMISSIONS,
  parseAdmissionList,
} from '../../core/provisioning/admission-list.ts';

const HEADER = 'serial,thing,use-case,site';

describe("a factory's list of serial numbers", () => {
  it('GIVEN a list with comments, blank lines, CRLF and columns in any order THEN each line is one admission', () => {
    const text = `# line 4, plant A\r\nsite,serial,use-case,thing\r\n\r\nplant-a,SN-0001,pump-maintenance,pump-0001\r\nplant-b, SN-0002 ,pump-maintenance,pump-0002\n`;

    expect(parseAdmissionList(text, 'list.csv')).toEqual([
      { serialNumber: 'SN-0001', thingName: 'pump-0001', useCase: 'pump-maintenance', site: 'plant-a' },
      { serialNumber: 'SN-0002', thingName: 'pump-0002', useCase: 'pump-maintenance', site: 'plant-b' },
    ]);
  });

  it.each([
    ['', /empty; it needs a header line "serial,thing,use-case,site"/],
    ['serial,thing,usecase,site\n', /unknown: usecase; missing: use-case/],
    ['serial,thing,use-case,site,site\n', /once each/],
  ])('GIVEN the header of %j THEN the list is refused, saying what the header needs', (text, message) => {
    expect(() => parseAdmissionList(text, 'list.csv')).toThrow(message);
  });

  it('GIVEN bad lines THEN nothing is admitted and every bad line is named with its number and reason', () => {
    const text = [
      HEADER,
      'SN-1,pump-1,pump-maintenance,plant-a',
      'SN-2,provision-2,pump-maintenance,plant-a',
      'SN-3,pump-3,Pump Maintenance,plant-a',
      'SN-1,pump-4,pump-maintenance,plant-a',
      'SN-5,pump-1,pump-maintenance,plant-a',
      'SN-6,pump-6,pump-maintenance',
    ].join('\n');

    let message = '';
    try {
      parseAdmissionList(text, 'list.csv');
    } catch (error) {
      message = (error as Error).message;
    }

    expect(message).toMatch(/^list\.csv: nothing admitted, 5 line\(s\) to fix:/);
    expect(message).toContain('line 3: ');
    expect(message).toContain('prefix is the claim certificate');
    expect(message).toContain('line 4: ');
    expect(message).toContain('line 5: serial "SN-1" is on line 2 already');
    expect(message).toContain('line 6: thing "pump-1" is on line 2 already');
    expect(message).toContain('line 7: 3 fields, the header has 4');
  });

  it('GIVEN more bad lines than a reader can use THEN the first 20 are named and the rest counted', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `SN-${i},pump-${i},pump-maintenance,PLANT`);
    expect(() => parseAdmissionList([HEADER, ...lines].join('\n'), 'list.csv')).toThrow(/… and 5 more$/);
  });

  it('GIVEN a list above the size or line limit THEN it is refused before any line is read', () => {
    expect(() => parseAdmissionList('x'.repeat(MAX_ADMISSION_LIST_BYTES + 1), 'big.csv')).toThrow(
      `big.csv: ${MAX_ADMISSION_LIST_BYTES + 1} bytes, above the limit of ${MAX_ADMISSION_LIST_BYTES}`,
    );
    const many = `${HEADER}\n${'SN,t,u,s\n'.repeat(MAX_ADMISSIONS + 1)}`;
    expect(() => parseAdmissionList(many, 'many.csv')).toThrow(`above the limit of ${MAX_ADMISSIONS} a list`);
  });
});
