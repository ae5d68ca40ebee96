// Batched in-place Cholesky A = L Lᵀ, one workgroup per matrix (row-major n×n at `off`), right-
// looking: for each column j, the pivot, then the column below it, then the trailing rank-1
// update in parallel. L overwrites the lower triangle and the strict upper triangle is zeroed,
// like linalg/cholesky.ts. info[k] = 0 on success, j+1 if pivot j was not positive (or not
// finite); the factorisation of that matrix stops there.
// The ADMM's reduced normal matrix is factored in f64 on the CPU (it is built once and is the
// most ill-conditioned object in the solver); this kernel exists for batched small factorisations
// and is tested standalone.

const WG: u32 = 256u;

struct Mat {
  off: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> Am: array<f32>;
@group(0) @binding(1) var<storage, read> mats: array<Mat>;
@group(0) @binding(2) var<storage, read_write> info: array<u32>;

var<workgroup> failed: u32;

@compute @workgroup_size(WG)
fn factor(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let mat = mats[wid.x];
  let n = mat.n;
  let o = mat.off;
  if (lid == 0u) { failed = 0u; info[wid.x] = 0u; }
  for (var j = 0u; j < n; j = j + 1u) {
    if (lid == 0u) {
      let d = Am[o + j * n + j];
      // d > 0 is false for NaN too; d < inf rejects infinities.
      if (d > 0.0 && d < 3.0e38) {
        Am[o + j * n + j] = sqrt(d);
      } else {
        failed = j + 1u;
        info[wid.x] = j + 1u;
      }
    }
    storageBarrier();
    if (workgroupUniformLoad(&failed) != 0u) { break; }
    let ljj = Am[o + j * n + j];
    for (var i = j + 1u + lid; i < n; i = i + WG) { Am[o + i * n + j] = Am[o + i * n + j] / ljj; }
    storageBarrier();
    // Trailing update of the lower triangle: A[i][k] −= L[i][j]·L[k][j] for j < k ≤ i.
    let t = n - j - 1u;
    for (var idx = lid; idx < t * t; idx = idx + WG) {
      let i = j + 1u + idx / t;
      let k = j + 1u + idx % t;
      if (k <= i) { Am[o + i * n + k] = Am[o + i * n + k] - Am[o + i * n + j] * Am[o + k * n + j]; }
    }
    storageBarrier();
  }
  if (workgroupUniformLoad(&failed) == 0u) {
    for (var idx = lid; idx < n * n; idx = idx + WG) {
      if (idx % n > idx / n) { Am[o + idx] = 0.0; }
    }
  }
}
