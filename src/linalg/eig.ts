/**
 * Symmetric eigendecomposition in Float64: Householder reduction to tridiagonal form followed by
 * the implicit symmetric QR iteration with Wilkinson shifts (Golub & Van Loan, "Matrix
 * Computations", §8.3). Eigenvectors are accumulated as ROWS of `vectors` (row i is the
 * eigenvector of values[i]) so that every rotation updates two contiguous rows.
 *
 * It is also the oracle the WebGPU Jacobi (PSD projection) kernels are tested against.
 */

export interface SymEig {
  /** Eigenvalues in ascending order. */
  readonly values: Float64Array;
  /** n×n row-major; row i is the unit eigenvector for values[i]. */
  readonly vectors: Float64Array;
}

/**
 * Eigendecomposition of the symmetric n×n row-major matrix `a` (only its lower triangle is
 * read; `a` is not modified). A = Σ_i values[i] · v_i v_iᵀ.
 */
export function symEig(a: Float64Array, n: number): SymEig {
  const w = new Float64Array(n * n); // accumulates Qᵀ (rows), later the eigenvectors (rows)
  const d = eigenvaluesInto(a, n, w);
  return sortAscending(d, w, n);
}

/**
 * Eigenvalues only, ascending: the same arithmetic on the tridiagonal as symEig (bit-identical
 * values) without accumulating eigenvectors, which is most of symEig's work.
 */
export function symEigenvalues(a: Float64Array, n: number): Float64Array {
  return eigenvaluesInto(a, n, null).sort();
}

/** Eigenvalues (unsorted) of the lower triangle of `a`; eigenvectors into the rows of w if given. */
function eigenvaluesInto(a: Float64Array, n: number, w: Float64Array | null): Float64Array {
  const t = Float64Array.from(a.subarray(0, n * n));
  // Symmetrise from the lower triangle so callers may pass a matrix with a stale upper half.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) t[j * n + i] = t[i * n + j];
  // Work on A / 2^k with the largest entry near 1: the Wilkinson shift squares an off-diagonal,
  // which overflows for entries above ~1e154 (then the iteration turns to NaN and never
  // deflates; the conv optimiser's G N⁻¹ Gᵀ near the domain boundary reached 1e200), and
  // underflows for tiny ones. A power of two keeps the scaling exact.
  let amax = 0;
  for (let i = 0; i < n * n; i++) amax = Math.max(amax, Math.abs(t[i]!));
  // (A non-finite matrix is left as it is: callers test the result, e.g. !(λ_min > 0).)
  const scale = amax > 0 && Number.isFinite(amax) ? 2 ** Math.min(1023, Math.max(-1022, Math.round(Math.log2(amax)))) : 1;
  if (scale !== 1) for (let i = 0; i < n * n; i++) t[i]! /= scale;
  const d = new Float64Array(n);
  const e = new Float64Array(n); // e[k] = T[k][k+1]
  tridiagonalise(t, n, d, e, w);
  tridiagonalQr(d, e, w, n);
  if (scale !== 1) for (let i = 0; i < n; i++) d[i]! *= scale;
  return d;
}

/**
 * Householder tridiagonalisation A = Q T Qᵀ. On return d/e hold T and w holds Qᵀ row-major.
 * Step k zeroes column k below the subdiagonal with H = I − 2vvᵀ acting on rows/cols k+1..n−1:
 * H A H = A − 2 v wᵀ − 2 w vᵀ with p = A v and w = p − (vᵀp) v.
 */
function tridiagonalise(a: Float64Array, n: number, d: Float64Array, e: Float64Array, w: Float64Array | null): void {
  const vs: Float64Array[] = [];
  const p = new Float64Array(n);
  // Eigenvalues only: one buffer for every Householder vector (they are kept for the vectors).
  const shared = w ? null : new Float64Array(n);
  for (let k = 0; k + 2 < n; k++) {
    const m = n - k - 1; // length of the column part below the diagonal
    const v = shared ? shared.subarray(0, m) : new Float64Array(m);
    let norm2 = 0;
    for (let i = 0; i < m; i++) {
      const x = a[(k + 1 + i) * n + k];
      v[i] = x;
      norm2 += x * x;
    }
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      if (w) vs.push(v); // zero vector: H = I
      continue;
    }
    const alpha = v[0] >= 0 ? -norm : norm;
    v[0] -= alpha;
    let vn2 = 0;
    for (let i = 0; i < m; i++) vn2 += v[i] * v[i];
    const vn = Math.sqrt(vn2);
    if (vn === 0) {
      if (w) vs.push(new Float64Array(m));
      continue;
    }
    for (let i = 0; i < m; i++) v[i] /= vn;
    // p = A_sub v
    let vp = 0;
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      let s = 0;
      for (let j = 0; j < m; j++) s += a[row + j] * v[j];
      p[i] = s;
      vp += v[i] * s;
    }
    for (let i = 0; i < m; i++) p[i] -= vp * v[i];
    for (let i = 0; i < m; i++) {
      const row = (k + 1 + i) * n + k + 1;
      const vi2 = 2 * v[i];
      const pi2 = 2 * p[i];
      for (let j = 0; j < m; j++) a[row + j] -= vi2 * p[j] + pi2 * v[j];
    }
    a[(k + 1) * n + k] = alpha;
    a[k * n + k + 1] = alpha;
    for (let i = 1; i < m; i++) {
      a[(k + 1 + i) * n + k] = 0;
      a[k * n + k + 1 + i] = 0;
    }
    if (w) vs.push(v);
  }
  for (let i = 0; i < n; i++) {
    d[i] = a[i * n + i];
    e[i] = i + 1 < n ? a[i * n + i + 1] : 0;
  }
  if (!w) return;
  // Qᵀ = H_{last} ⋯ H_0: start from I and apply H_0 first. H_k touches rows k+1.. only.
  w.fill(0);
  for (let i = 0; i < n; i++) w[i * n + i] = 1;
  const tmp = new Float64Array(n);
  for (let k = 0; k < vs.length; k++) {
    const v = vs[k];
    const m = v.length;
    tmp.fill(0);
    for (let i = 0; i < m; i++) {
      const vi = v[i];
      if (vi === 0) continue;
      const row = (k + 1 + i) * n;
      for (let j = 0; j < n; j++) tmp[j] += vi * w[row + j];
    }
    for (let i = 0; i < m; i++) {
      const vi2 = 2 * v[i];
      if (vi2 === 0) continue;
      const row = (k + 1 + i) * n;
      for (let j = 0; j < n; j++) w[row + j] -= vi2 * tmp[j];
    }
  }
}

/**
 * Implicit symmetric QR with Wilkinson shift on the tridiagonal (d, e); rotations are applied to
 * the rows of w. A rotation on coordinates (k, k+1) maps rows r_k ← c r_k − s r_{k+1},
 * r_{k+1} ← s r_k + c r_{k+1}, and chases the bulge at (k+2, k) down the matrix.
 */
function tridiagonalQr(d: Float64Array, e: Float64Array, w: Float64Array | null, n: number): void {
  const eps = Number.EPSILON;
  let m = n - 1;
  let iter = 0;
  const maxIter = 60 * Math.max(n, 1);
  while (m > 0) {
    // Deflate negligible off-diagonals.
    for (let i = 0; i < m; i++) {
      // (the absolute floor: with subnormal entries the relative test can never fire)
      if (Math.abs(e[i]) <= eps * (Math.abs(d[i]) + Math.abs(d[i + 1])) || Math.abs(e[i]) < 1e-300) e[i] = 0;
    }
    if (e[m - 1] === 0) {
      m--;
      continue;
    }
    let l = m - 1;
    while (l > 0 && e[l - 1] !== 0) l--;
    if (++iter > maxIter) throw new Error(`symEig: QR iteration did not converge (n=${n})`);
    // Wilkinson shift from the trailing 2×2.
    const dd = (d[m - 1] - d[m]) / 2;
    const b = e[m - 1];
    const mu = d[m] - (b * b) / (dd + (dd >= 0 ? 1 : -1) * Math.hypot(dd, b));
    let x = d[l] - mu;
    let z = e[l];
    for (let k = l; k < m; k++) {
      // Math.hypot only where x² + z² could over- or underflow (it is several times slower in
      // V8; the matrix was scaled to a largest entry near 1, so that is rare).
      const r2 = x * x + z * z;
      const r = r2 > 1e-290 && r2 < 1e290 ? Math.sqrt(r2) : Math.hypot(x, z);
      const c = r === 0 ? 1 : x / r;
      const s = r === 0 ? 0 : -z / r;
      if (k > l) e[k - 1] = c * e[k - 1] - s * z; // = r up to rounding; z was the bulge
      const a0 = d[k];
      const b0 = e[k];
      const f0 = d[k + 1];
      d[k] = c * c * a0 - 2 * c * s * b0 + s * s * f0;
      d[k + 1] = s * s * a0 + 2 * c * s * b0 + c * c * f0;
      e[k] = c * s * (a0 - f0) + (c * c - s * s) * b0;
      if (k + 1 < m) {
        z = -s * e[k + 1];
        e[k + 1] = c * e[k + 1];
        x = e[k];
      }
      if (!w) continue;
      const rk = k * n;
      const rk1 = (k + 1) * n;
      for (let j = 0; j < n; j++) {
        const u = w[rk + j];
        const v = w[rk1 + j];
        w[rk + j] = c * u - s * v;
        w[rk1 + j] = s * u + c * v;
      }
    }
  }
}

function sortAscending(d: Float64Array, w: Float64Array, n: number): SymEig {
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i] - d[j]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    vectors.set(w.subarray(src * n, src * n + n), dst * n);
  });
  return { values, vectors };
}

/**
 * In-place Euclidean projection of the symmetric matrix `a` (n×n) onto the PSD cone:
 * a ← Σ_{λ_i > 0} λ_i v_i v_iᵀ. Uses whichever of the positive or negative parts has fewer
 * eigenpairs (a − Σ_{λ<0} λ v vᵀ is the same matrix). Returns the eigenvalues.
 */
export function projectPsdInPlace(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symEig(a, n);
  let neg = 0;
  while (neg < n && values[neg] < 0) neg++;
  if (neg === 0) return values;
  if (neg === n) {
    a.fill(0, 0, n * n);
    return values;
  }
  const useNeg = neg <= n - neg;
  if (!useNeg) a.fill(0, 0, n * n);
  const from = useNeg ? 0 : neg;
  const to = useNeg ? neg : n;
  const sign = useNeg ? -1 : 1;
  for (let k = from; k < to; k++) {
    const lam = sign * values[k];
    const v = vectors.subarray(k * n, k * n + n);
    for (let i = 0; i < n; i++) {
      const li = lam * v[i];
      if (li === 0) continue;
      const row = i * n;
      for (let j = 0; j < n; j++) a[row + j] += li * v[j];
    }
  }
  return values;
}
