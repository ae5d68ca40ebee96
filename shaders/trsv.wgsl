// Batched triangular solves with a Cholesky factor L (row-major, lower), one workgroup per system:
//   forward:  L y = b      backward:  Lᵀ x = y      solve: both (x = (LLᵀ)⁻¹ b) in one dispatch.
// Column-oriented ("axpy") substitution: once x_j is final, every thread updates its own entries,
// so each step is one parallel pass over a contiguous row: row j of Lᵀ (forward) or of L
// (backward). The forward step reads Lᵀ from a separate transposed copy when the host supplied
// one (uOff ≠ NONE) — contiguous loads — and otherwise strides down column j of L.
// The right-hand side is solved in place in X[bOff .. bOff+n).

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

struct Sys {
  n: u32,
  lOff: u32,
  uOff: u32,
  bOff: u32,
}

@group(0) @binding(0) var<storage, read> Lm: array<f32>;
@group(0) @binding(1) var<storage, read_write> X: array<f32>;
@group(0) @binding(2) var<storage, read> systems: array<Sys>;

var<workgroup> xj: f32;

fn lt(s: Sys, j: u32, i: u32) -> f32 {
  // (Lᵀ)_{j,i} = L_{i,j}
  if (s.uOff != NONE) { return Lm[s.uOff + j * s.n + i]; }
  return Lm[s.lOff + i * s.n + j];
}

fn forward_steps(s: Sys, lid: u32) {
  for (var j = 0u; j < s.n; j = j + 1u) {
    if (lid == 0u) {
      let v = X[s.bOff + j] / Lm[s.lOff + j * s.n + j];
      X[s.bOff + j] = v;
      xj = v;
    }
    let v = workgroupUniformLoad(&xj);
    for (var i = j + 1u + lid; i < s.n; i = i + WG) { X[s.bOff + i] = X[s.bOff + i] - lt(s, j, i) * v; }
    storageBarrier();
  }
}

fn backward_steps(s: Sys, lid: u32) {
  for (var jj = s.n; jj > 0u; jj = jj - 1u) {
    let j = jj - 1u;
    if (lid == 0u) {
      let v = X[s.bOff + j] / Lm[s.lOff + j * s.n + j];
      X[s.bOff + j] = v;
      xj = v;
    }
    let v = workgroupUniformLoad(&xj);
    for (var i = lid; i < j; i = i + WG) { X[s.bOff + i] = X[s.bOff + i] - Lm[s.lOff + j * s.n + i] * v; }
    storageBarrier();
  }
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_steps(systems[wid.x], lid);
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  backward_steps(systems[wid.x], lid);
}

@compute @workgroup_size(WG)
fn solve(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = systems[wid.x];
  forward_steps(s, lid);
  backward_steps(s, lid);
}
