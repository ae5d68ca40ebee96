// Elementwise vector kernels of the ADMM loop and the two-pass norm reduction.
// Vectors are flat f32 arrays; launches use a 2-D grid of 256-wide workgroups so vectors longer
// than 65535·256 elements still fit the per-dimension dispatch limit.

struct LinParams {
  n: u32,
  // bits 0..2: term x/y/z reads from `outv` instead of its own binding (the caller aliases out);
  // bits 4..5: number of terms (1..3).
  flags: u32,
  a: f32,
  b: f32,
  c: f32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> LP: LinParams;
@group(0) @binding(1) var<storage, read_write> outv: array<f32>;
@group(0) @binding(2) var<storage, read> xv: array<f32>;
@group(0) @binding(3) var<storage, read> yv: array<f32>;
@group(0) @binding(4) var<storage, read> zv: array<f32>;

fn flat_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * 256u + lid;
}

// out ← a·x (+ b·y (+ c·z)). A read-write binding may not alias a read-only one in one dispatch,
// so an input that IS the output is read through `outv` (flag bit) and a dummy buffer is bound.
@compute @workgroup_size(256)
fn lincomb(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= LP.n) { return; }
  let terms = (LP.flags >> 4u) & 3u;
  var xs: f32;
  if ((LP.flags & 1u) != 0u) { xs = outv[i]; } else { xs = xv[i]; }
  var r = LP.a * xs;
  if (terms >= 2u) {
    var ys: f32;
    if ((LP.flags & 2u) != 0u) { ys = outv[i]; } else { ys = yv[i]; }
    r = r + LP.b * ys;
  }
  if (terms >= 3u) {
    var zs: f32;
    if ((LP.flags & 4u) != 0u) { zs = outv[i]; } else { zs = zv[i]; }
    r = r + LP.c * zs;
  }
  outv[i] = r;
}

struct RangeParams {
  offset: u32,
  n: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> RP: RangeParams;
@group(0) @binding(1) var<storage, read_write> rv: array<f32>;

// v[offset .. offset+n) ← max(v, 0): the projection onto the nonnegative orthant (λ ≥ 0).
@compute @workgroup_size(256)
fn clamp_nonneg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= RP.n) { return; }
  let k = RP.offset + i;
  let v = rv[k];
  // `v < 0` (not max) so that NaN stays NaN, as on the CPU.
  if (v < 0.0) { rv[k] = 0.0; }
}

// ---- norms and inner products: pass 1 writes one partial Σ a·b per workgroup (a = b for a
// squared norm; binding one buffer twice read-only is allowed), pass 2 folds them ----

struct NormParams {
  n: u32,
  slot: u32,
  groups: u32,
  stride: u32, // partials per slot (≥ groups)
}

@group(0) @binding(0) var<uniform> NP: NormParams;
@group(0) @binding(1) var<storage, read> nv: array<f32>;
@group(0) @binding(2) var<storage, read> nv2: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> red: array<f32, 256>;

fn tree_reduce(lid: u32) {
  // Halving tree over the 256 lanes: keeps the f32 rounding error O(log n) per workgroup.
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(256)
fn dot_partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  let step = NP.groups * 256u;
  for (var i = wid.x * 256u + lid; i < NP.n; i = i + step) { acc = acc + nv[i] * nv2[i]; }
  red[lid] = acc;
  workgroupBarrier();
  tree_reduce(lid);
  if (lid == 0u) { partials[NP.slot * NP.stride + wid.x] = red[0]; }
}

struct FoldParams {
  groups: u32,
  stride: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> FP: FoldParams;
@group(0) @binding(1) var<storage, read> fin: array<f32>;
@group(0) @binding(2) var<storage, read_write> fout: array<f32>;

// One workgroup per pair (slot = workgroup_id.x): fout[slot] = Σ partials (for norms the square
// root is taken on the host in f64).
@compute @workgroup_size(256)
fn dot_fold(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < FP.groups; i = i + 256u) { acc = acc + fin[wid.x * FP.stride + i]; }
  red[lid] = acc;
  workgroupBarrier();
  tree_reduce(lid);
  if (lid == 0u) { fout[wid.x] = red[0]; }
}
