/**
 * The few dense-matrix operations the realizations need: allocate, assemble from blocks, and a
 * fused y += M·x on slices. Kept local to src/realize so that this module does not depend on the
 * (separately evolving) linear-algebra package; everything is Float64, row-major, as in
 * src/model/ir.ts `Matrix`.
 */
import type { Matrix } from '../model/ir.js';

/** A rows × cols zero matrix. Zero-sized dimensions are allowed (empty state spaces). */
export function zeros(rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new Error(`zeros: invalid shape ${rows}×${cols}`);
  }
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** Entry (i, j). */
export function at(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j]!;
}

/**
 * out[outOff .. outOff+m.rows) += m · x[xOff .. xOff+m.cols).
 * Offsets let the simulators keep all signals in flat buffers without slicing.
 */
export function matVecAcc(
  m: Matrix,
  x: Float64Array,
  xOff: number,
  out: Float64Array,
  outOff: number,
): void {
  const { rows, cols, data } = m;
  for (let i = 0; i < rows; i++) {
    let acc = 0;
    const base = i * cols;
    for (let j = 0; j < cols; j++) acc += data[base + j]! * x[xOff + j]!;
    out[outOff + i] = out[outOff + i]! + acc;
  }
}

/**
 * Assemble a block matrix. `grid[p][q]` is the block in block-row p, block-column q; all blocks
 * of a block-row must share `rows`, all blocks of a block-column must share `cols` (checked,
 * because a silent shape mismatch would misplace LMI entries downstream).
 */
export function blockMatrix(grid: readonly (readonly Matrix[])[]): Matrix {
  if (grid.length === 0) return zeros(0, 0);
  const nq = grid[0]!.length;
  const rowH = grid.map((row, p) => {
    if (row.length !== nq) throw new Error(`blockMatrix: block-row ${p} has ${row.length} blocks, expected ${nq}`);
    return row[0]!.rows;
  });
  const colW = grid[0]!.map((b) => b.cols);
  const R = rowH.reduce((a, b) => a + b, 0);
  const Ccount = colW.reduce((a, b) => a + b, 0);
  const out = zeros(R, Ccount);
  let r0 = 0;
  for (let p = 0; p < grid.length; p++) {
    let c0 = 0;
    for (let q = 0; q < nq; q++) {
      const b = grid[p]![q]!;
      if (b.rows !== rowH[p] || b.cols !== colW[q]) {
        throw new Error(
          `blockMatrix: block (${p},${q}) is ${b.rows}×${b.cols}, expected ${rowH[p]}×${colW[q]}`,
        );
      }
      for (let i = 0; i < b.rows; i++) {
        out.data.set(b.data.subarray(i * b.cols, (i + 1) * b.cols), (r0 + i) * Ccount + c0);
      }
      c0 += colW[q]!;
    }
    r0 += rowH[p]!;
  }
  return out;
}
