// Batched in-place Cholesky A = L Lᵀ, one workgroup per matrix (row-major n×n at `off`, rows `ld`
// apart), right-looking: for each column j, the pivot, then the column below it, then the trailing
// rank-1 update in parallel. L overwrites the lower triangle and the strict upper triangle of the
// block is zeroed, like linalg/cholesky.ts. info[k] = 0 on success, j+1 if pivot j was not
// positive (or not finite); the factorisation of that matrix stops there.
//
// The same entry point factors the diagonal blocks of the blocked route (kernels/cholesky.ts
// planBlockedFactor) for matrices larger than one workgroup handles well: there `base` is the
// block's first pivot in the whole matrix, a failure reports base + j + 1, and a block whose
// matrix already failed does nothing. panel_solve and zero_upper below are that route's other
// steps; its trailing update is a GEMM (gemm.wgsl).

const WG: u32 = 256u;

struct Mat {
  off: u32,
  n: u32,
  ld: u32,
  // First pivot of this block in its matrix (0: a whole matrix, whose info is reset here).
  base: u32,
}

@group(0) @binding(0) var<storage, read_write> Am: array<f32>;
@group(0) @binding(1) var<storage, read> mats: array<Mat>;
@group(0) @binding(2) var<storage, read_write> info: array<u32>;

var<workgroup> failed: u32;

@compute @workgroup_size(WG)
fn factor(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let mat = mats[wid.x];
  let n = mat.n;
  let ld = mat.ld;
  let o = mat.off;
  if (lid == 0u) {
    if (mat.base == 0u) { info[wid.x] = 0u; }
    failed = info[wid.x];
  }
  if (workgroupUniformLoad(&failed) != 0u) { return; }
  for (var j = 0u; j < n; j = j + 1u) {
    if (lid == 0u) {
      let d = Am[o + j * ld + j];
      // d > 0 is false for NaN too; d < inf rejects infinities.
      if (d > 0.0 && d < 3.0e38) {
        Am[o + j * ld + j] = sqrt(d);
      } else {
        failed = mat.base + j + 1u;
        info[wid.x] = mat.base + j + 1u;
      }
    }
    storageBarrier();
    if (workgroupUniformLoad(&failed) != 0u) { break; }
    let ljj = Am[o + j * ld + j];
    for (var i = j + 1u + lid; i < n; i = i + WG) { Am[o + i * ld + j] = Am[o + i * ld + j] / ljj; }
    storageBarrier();
    // Trailing update of the lower triangle: A[i][k] −= L[i][j]·L[k][j] for j < k ≤ i.
    let t = n - j - 1u;
    for (var idx = lid; idx < t * t; idx = idx + WG) {
      let i = j + 1u + idx / t;
      let k = j + 1u + idx % t;
      if (k <= i) { Am[o + i * ld + k] = Am[o + i * ld + k] - Am[o + i * ld + j] * Am[o + k * ld + j]; }
    }
    storageBarrier();
  }
  if (workgroupUniformLoad(&failed) == 0u) {
    for (var idx = lid; idx < n * n; idx = idx + WG) {
      if (idx % n > idx / n) { Am[o + (idx / n) * ld + idx % n] = 0.0; }
    }
  }
}

// Blocked route, panel step: with L11 (b × b, factored at `diag`) and the rows below it (A21,
// `rows` × b at `below`), A21 ← A21·L11⁻ᵀ row by row (forward substitution, one invocation per
// row, no barriers), each solved row also copied to `panel` (rows × b, contiguous) for the
// trailing GEMM, which may not read the buffer it writes.
struct Panel {
  diag: u32,
  below: u32,
  ld: u32,
  b: u32,
  rows: u32,
}

@group(0) @binding(0) var<storage, read_write> Mm: array<f32>;
@group(0) @binding(1) var<storage, read> pan: Panel;
@group(0) @binding(2) var<storage, read_write> panel: array<f32>;

@compute @workgroup_size(64)
fn panel_solve(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= pan.rows) { return; }
  let row = pan.below + r * pan.ld;
  for (var j = 0u; j < pan.b; j = j + 1u) {
    var x = Mm[row + j];
    for (var l = 0u; l < j; l = l + 1u) { x = x - panel[r * pan.b + l] * Mm[pan.diag + j * pan.ld + l]; }
    x = x / Mm[pan.diag + j * pan.ld + j];
    panel[r * pan.b + j] = x;
    Mm[row + j] = x;
  }
}

// Blocked route, last step: zero the strict upper triangle of the n × n matrix at `diag`
// (= its offset; `rows` = n), which the trailing GEMMs filled with the upper half of A22.
@compute @workgroup_size(64)
fn zero_upper(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = pan.rows;
  let idx = gid.x + gid.y * nwg.x * 64u;
  if (idx >= n * n) { return; }
  if (idx % n > idx / n) { Mm[pan.diag + (idx / n) * pan.ld + idx % n] = 0.0; }
}
