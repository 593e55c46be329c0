import { describe, expect, it } from 'vitest';
import { parseCsvTable } from '../../model/csv-table.ts';

describe('parseCsvTable', () => {
  it('reads `;` files, ignoring non-numeric columns and excluded ones', () => {
    const text = 'datetime;a;b;label\n2020-01-01 00:00:00;1.5;2;0\n2020-01-01 00:00:01;1.6;3;1\n';
    expect(parseCsvTable(text, 'x.csv', { exclude: ['label'] })).toEqual({
      sensors: ['a', 'b'],
      rows: [
        [1.5, 2],
        [1.6, 3],
      ],
    });
  });

  it('reads `,` files and an explicit sensor list in its order', () => {
    expect(parseCsvTable('a,b,name\n1,2,p\n3,4,q\n', 'y.csv', { sensors: ['b', 'a'] })).toEqual({
      sensors: ['b', 'a'],
      rows: [
        [2, 1],
        [4, 3],
      ],
    });
  });

  it('names the file and the problem', () => {
    expect(() => parseCsvTable('a,b\n', 'empty.csv')).toThrow(
      'empty.csv: needs a header row and at least one data row',
    );
    expect(() => parseCsvTable('a,b\n1,2\n', 'z.csv', { sensors: ['c'] })).toThrow(
      'z.csv: no column "c" (columns: a, b)',
    );
    expect(() => parseCsvTable('t,name\nx,y\n', 'w.csv')).toThrow(
      'w.csv: no numeric sensor column (columns: t, name)',
    );
  });
});
