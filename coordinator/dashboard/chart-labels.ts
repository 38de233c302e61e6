/**
 * Where the memory chart's labels go so that none overprints another: the limits' labels at the
 * right end of their lines, the peak's beside its dot, test files' names along the bottom.
 * views/static/job-chart.js lays them out the same way (keep the two in step).
 */

/** A label's box in viewBox units. */
export interface LabelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** About how wide a character of an 11 px label is, in viewBox units (bold a little wider). */
export const CHAR_WIDTH = 6;
const BOLD_CHAR_WIDTH = 6.8;
/** From an 11 px label's baseline up to the top of its capitals, and down past its descenders. */
const ASCENT = 10;
const DESCENT = 3;
/** Baselines of labels stacked one under the other. */
const LINE_STEP = ASCENT + DESCENT + 1;
/** Room kept free around each label. */
const PAD = 2;

export function boxOf(x: number, baseline: number, chars: number, anchor: "start" | "end", bold = false) {
  const width = chars * (bold ? BOLD_CHAR_WIDTH : CHAR_WIDTH);
  const x1 = anchor === "start" ? x : x - width;
  return { x1: x1 - PAD, y1: baseline - ASCENT - PAD, x2: x1 + width + PAD, y2: baseline + DESCENT + PAD };
}

export function overlaps(a: LabelBox, b: LabelBox): boolean {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

/**
 * The limits' labels: just above their lines at the right edge, each pushed down below the one
 * above it where two lines are too close (or the top edge clamps one), so that none overlaps.
 */
export function placeLevelLabels(levels: readonly { y: number; label: string }[], width: number) {
  let below = Number.NEGATIVE_INFINITY;
  return levels.map((level) => {
    const baseline = Math.max(ASCENT + 1, level.y - 3, below + LINE_STEP);
    below = baseline;
    return { labelY: baseline, box: boxOf(width - 4, baseline, level.label.length, "end") };
  });
}

/**
 * The peak's label: beside its dot on the side with room (under the line, else over it, else on
 * the other side), else further down or up until it clears the limits' labels.
 */
export function placePeakLabel(
  peak: { x: number; y: number; label: string },
  taken: readonly LabelBox[],
  size: { width: number; height: number },
): { labelX: number; labelY: number; anchor: "start" | "end"; box: LabelBox } {
  const preferred: "start" | "end" = peak.x < size.width / 2 ? "start" : "end";
  const other: "start" | "end" = preferred === "start" ? "end" : "start";
  const below = peak.y + 14;
  const above = peak.y - 8;
  const candidates: [number, "start" | "end"][] = [
    [below, preferred],
    [above, preferred],
    [below, other],
    [above, other],
  ];
  for (let step = 1; step * LINE_STEP < size.height; step += 1) {
    candidates.push([below + step * LINE_STEP, preferred], [above - step * LINE_STEP, preferred]);
  }
  const place = ([baseline, anchor]: [number, "start" | "end"]) => {
    const labelX = anchor === "start" ? peak.x + 8 : peak.x - 8;
    return {
      labelX,
      labelY: baseline,
      anchor,
      box: boxOf(labelX, baseline, peak.label.length, anchor, true),
    };
  };
  const fits = (box: LabelBox) => box.y1 >= 0 && box.y2 <= size.height && box.x1 >= 0 && box.x2 <= size.width;
  const placed = candidates
    .map(place)
    .find((candidate) => fits(candidate.box) && !taken.some((box) => overlaps(box, candidate.box)));
  return placed ?? place(candidates[0] as [number, "start" | "end"]);
}

/** Test files' short names (`test_capitalize`) along the bottom, where the plot's height is. */
export function testLabelBaseline(height: number): number {
  return height - 8;
}

/**
 * Labels test starts left to right, each where it overprints neither the one before it nor a
 * limit's or the peak's label (null: the name is on hover only).
 */
export function labelBoundaries(
  boundaries: readonly { x: number; name: string }[],
  size: { width: number; height: number },
  taken: readonly LabelBox[] = [],
) {
  const baseline = testLabelBaseline(size.height);
  let freeFrom = 0;
  return [...boundaries]
    .sort((a, b) => a.x - b.x)
    .map((boundary) => {
      const short = boundary.name.slice(boundary.name.lastIndexOf(".") + 1);
      const box = boxOf(boundary.x + 3, baseline, short.length, "start");
      if (boundary.x < freeFrom || box.x2 > size.width || taken.some((other) => overlaps(other, box)))
        return { ...boundary, label: null };
      freeFrom = box.x2 + 6;
      return { ...boundary, label: short };
    });
}
