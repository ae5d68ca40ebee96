// Batched projection onto the PSD cone of symmetric blocks of mixed sizes, one workgroup per block,
// by parallel-order cyclic Jacobi held entirely in workgroup memory.
//
// Each block (row-major n×n at S[off]) is loaded with an identity V into workgroup memory. A sweep
// is m−1 rounds (m = n rounded up to even) of the round-robin "circle" tournament: every round is
// a perfect matching of the indices into m/2 disjoint pairs (p, q), so their rotations commute and
// are applied together: A ← JᵀA (rows), then A ← AJ and V ← VJ (columns). Sweeps stop when a full
// sweep rotated nothing (every |a_pq| ≤ tol) or after MAX_SWEEPS. Then Π(A) = V max(Λ,0) Vᵀ is
// written back in place. Blocks with n > NMAX are skipped here (psd_jacobi_global.wgsl does them).
//
// Workgroup memory: 4·(2·NMAX² + 2·ceil(NMAX/2) + 4) bytes; the host picks the largest NMAX that
// fits maxComputeWorkgroupStorageSize (63 for 32 KiB).

override NMAX: u32 = 45u;
const WG: u32 = 256u;
const MAX_SWEEPS: u32 = 40u;
// Rotation threshold relative to ‖A‖_F/n: leaves an off-diagonal residue E with ‖E‖_F ≤ ~1e-7‖A‖_F,
// and Π is 1-Lipschitz in the Frobenius norm, so the projection error it causes is below f32 noise.
const TOL_REL: f32 = 1e-7;

struct Blk {
  off: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> S: array<f32>;
@group(0) @binding(1) var<storage, read> blocks: array<Blk>;

var<workgroup> A: array<f32, NMAX * NMAX>;
var<workgroup> V: array<f32, NMAX * NMAX>;
var<workgroup> cs: array<f32, (NMAX + 1u) / 2u>;
var<workgroup> sn: array<f32, (NMAX + 1u) / 2u>;
var<workgroup> rotated: atomic<u32>;
var<workgroup> flag: u32;
var<workgroup> tol: f32;
var<workgroup> nsh: u32;

// Pair k of round r of the circle method on m players (m even): player m−1 stays put, the
// others rotate. Returns (p, q); an index ≥ n is the padding player for odd n.
fn pair_of(r: u32, k: u32, m: u32) -> vec2u {
  let mm = m - 1u;
  if (k == 0u) { return vec2u(r % mm, mm); }
  return vec2u((r + k) % mm, (r + mm - k) % mm);
}

// Jacobi rotation (c, s) that annihilates a_pq (Golub & Van Loan, sym.schur2).
fn rotation(app: f32, aqq: f32, apq: f32) -> vec2f {
  let theta = (aqq - app) / (2.0 * apq);
  var t: f32;
  if (abs(theta) > 1e18) {
    t = 0.5 / theta; // θ² would overflow; tan ≈ 1/(2θ)
  } else {
    t = select(1.0, -1.0, theta < 0.0) / (abs(theta) + sqrt(1.0 + theta * theta));
  }
  let c = inverseSqrt(1.0 + t * t);
  return vec2f(c, t * c);
}

@compute @workgroup_size(WG)
fn project(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { nsh = blocks[wid.x].n; }
  let n = workgroupUniformLoad(&nsh);
  if (n == 0u || n > NMAX) { return; }
  let off = blocks[wid.x].off;
  let nn = n * n;
  for (var i = lid; i < nn; i = i + WG) {
    A[i] = S[off + i];
    V[i] = select(0.0, 1.0, i / n == i % n);
  }
  workgroupBarrier();
  if (lid == 0u) {
    var f = 0.0;
    for (var i = 0u; i < nn; i = i + 1u) { f = f + A[i] * A[i]; }
    tol = TOL_REL * sqrt(f) / f32(n);
  }
  let m = n + (n & 1u);
  let npairs = m / 2u;
  let thr = workgroupUniformLoad(&tol);
  for (var sweep = 0u; sweep < MAX_SWEEPS; sweep = sweep + 1u) {
    if (lid == 0u) { atomicStore(&rotated, 0u); }
    for (var r = 0u; r + 1u < m; r = r + 1u) {
      workgroupBarrier();
      for (var k = lid; k < npairs; k = k + WG) {
        let pq = pair_of(r, k, m);
        var cs_ = vec2f(1.0, 0.0);
        if (pq.x < n && pq.y < n) {
          let apq = A[pq.x * n + pq.y];
          if (abs(apq) > thr) {
            cs_ = rotation(A[pq.x * n + pq.x], A[pq.y * n + pq.y], apq);
            atomicStore(&rotated, 1u);
          }
        }
        cs[k] = cs_.x;
        sn[k] = cs_.y;
      }
      workgroupBarrier();
      // Rows p, q ← Jᵀ·rows. Work item (pair k, column j).
      for (var idx = lid; idx < npairs * n; idx = idx + WG) {
        let k = idx / n;
        let s = sn[k];
        if (s != 0.0) {
          let c = cs[k];
          let pq = pair_of(r, k, m);
          let j = idx % n;
          let ap = A[pq.x * n + j];
          let aq = A[pq.y * n + j];
          A[pq.x * n + j] = c * ap - s * aq;
          A[pq.y * n + j] = s * ap + c * aq;
        }
      }
      workgroupBarrier();
      // Columns p, q of A and V ← ·J. Work item (pair k, row i). a_pq, a_qp are set to exact 0.
      for (var idx = lid; idx < npairs * n; idx = idx + WG) {
        let k = idx / n;
        let s = sn[k];
        if (s != 0.0) {
          let c = cs[k];
          let pq = pair_of(r, k, m);
          let i = idx % n;
          let ap = A[i * n + pq.x];
          let aq = A[i * n + pq.y];
          var np = c * ap - s * aq;
          var nq = s * ap + c * aq;
          if (i == pq.y) { np = 0.0; }
          if (i == pq.x) { nq = 0.0; }
          A[i * n + pq.x] = np;
          A[i * n + pq.y] = nq;
          let vp = V[i * n + pq.x];
          let vq = V[i * n + pq.y];
          V[i * n + pq.x] = c * vp - s * vq;
          V[i * n + pq.y] = s * vp + c * vq;
        }
      }
    }
    workgroupBarrier();
    if (lid == 0u) { flag = atomicLoad(&rotated); }
    if (workgroupUniformLoad(&flag) == 0u) { break; }
  }
  // Eigenvalues are on the diagonal; keep max(λ,0) in the first row of A (no longer needed).
  workgroupBarrier();
  var d: array<f32, 4>;
  var cnt = 0u;
  for (var k = lid; k < n; k = k + WG) {
    d[cnt] = max(A[k * n + k], 0.0);
    cnt = cnt + 1u;
  }
  workgroupBarrier();
  cnt = 0u;
  for (var k = lid; k < n; k = k + WG) {
    A[k] = d[cnt];
    cnt = cnt + 1u;
  }
  workgroupBarrier();
  // Π_ij = Σ_k λ⁺_k (V_ik V_jk): the product V_ik·V_jk commutes exactly, so Π is bitwise symmetric.
  for (var idx = lid; idx < nn; idx = idx + WG) {
    let i = idx / n;
    let j = idx % n;
    var acc = 0.0;
    for (var k = 0u; k < n; k = k + 1u) { acc = acc + A[k] * (V[i * n + k] * V[j * n + k]); }
    S[off + idx] = acc;
  }
}
