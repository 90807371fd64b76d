import { useId } from 'react';
import { RANGES, type Range } from '../lib/route.js';

const RANGE_LABEL: Record<Range, string> = {
  '24h': '24 h',
  '7d': '7 d',
  '30d': '30 d',
  '90d': '90 d',
  all: 'All',
};

const RANGE_PERIOD: Record<Range, string> = {
  '24h': 'the last 24 hours',
  '7d': 'the last 7 days',
  '30d': 'the last 30 days',
  '90d': 'the last 90 days',
  all: 'the whole history',
};

/** The period a range reads, for a sentence: "the last 30 days", "the whole history". */
export function describeRange(range: Range): string {
  return RANGE_PERIOD[range];
}

export interface RangePickerProps {
  range: Range;
  onChange: (range: Range) => void;
  /** What the range applies to, shown before the choices ("Charts over"). */
  legend: string;
  /** Prefix of the test ids: `<prefix>-picker` and `<prefix>-<range>`. */
  testIdPrefix?: string;
}

/** One choice among the read endpoints' windows (24 h to the whole history), as segmented radio buttons. */
export function RangePicker({ range, onChange, legend, testIdPrefix = 'range' }: RangePickerProps) {
  // Radio groups are grouped by name: two pickers on one page must not share one.
  const name = useId();
  return (
    <fieldset className="range-picker" data-testid={`${testIdPrefix}-picker`}>
      <legend className="range-legend">{legend}</legend>
      <div className="segmented">
        {RANGES.map((item) => (
          <label key={item} className={item === range ? 'segment segment-on' : 'segment'}>
            <input
              type="radio"
              name={name}
              value={item}
              checked={item === range}
              onChange={() => onChange(item)}
              data-testid={`${testIdPrefix}-${item}`}
            />
            {RANGE_LABEL[item]}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
