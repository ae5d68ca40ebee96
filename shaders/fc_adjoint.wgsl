// g ← Aᵀ s for fully connected LMI blocks (mirrors src/lmi/fc-ops.ts applyAT), gather form:
// every x entry is written by exactly one invocation, so no atomics and no zero-fill pass.
//   adjoint_q:   g[Q_k] = S11(consumer of Q_k) − S22(producer of Q_k)
//   adjoint_lam: g[λ_i] = 2 S22_ii − (α+β)(⟨S21_i,w_i⟩ + ⟨S12_{:,i},w_i⟩) + s_nonneg[i]
//   adjoint_rho: g[ρ]   = Σ trace(S11) over the blocks whose incoming weight is ρI
//   quad_rows:   g[o+i] += coef · w_iᵀ T_{:,i}, with T = S11·Wᵀ from gemm.wgsl, i.e. the
//                2αβ·w_iᵀ S11 w_i term (also used by the normal solve with R in place of S11).

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

struct Blk {
  sOff: u32,
  size: u32,
  n: u32,
  m: u32,
  wOff: u32,
  lamOff: u32,
  qIn: u32,
  qOut: u32,
  tOff: u32,
  ab2: f32,
  apb: f32,
  pad: u32,
}

struct QDesc {
  qOff: u32,
  m: u32,
  prodOff: u32, // element offset in s of the producer's S22 corner
  prodLd: u32,
  consOff: u32, // element offset in s of the consumer's S11 corner, or NONE
  consLd: u32,
  prodLam: u32, // offset in x of the producer's λ (used by normal_q.wgsl)
  pad: u32,
}

struct AdjGlobals {
  nonnegOff: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<storage, read> S: array<f32>;
@group(0) @binding(1) var<storage, read_write> Gx: array<f32>;
@group(0) @binding(2) var<storage, read> qd: array<QDesc>;

@compute @workgroup_size(WG)
fn adjoint_q(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let d = qd[wid.y];
  for (var idx = wid.x * WG + lid; idx < d.m * d.m; idx = idx + nwg.x * WG) {
    let r = idx / d.m;
    let c = idx % d.m;
    var v = -S[d.prodOff + r * d.prodLd + c];
    if (d.consOff != NONE) { v = v + S[d.consOff + r * d.consLd + c]; }
    Gx[d.qOff + idx] = v;
  }
}

@group(0) @binding(0) var<storage, read> ls: array<f32>;
@group(0) @binding(1) var<storage, read_write> lg: array<f32>;
@group(0) @binding(2) var<storage, read> lw: array<f32>;
@group(0) @binding(3) var<storage, read> lb: array<Blk>;
@group(0) @binding(4) var<uniform> AG: AdjGlobals;

@compute @workgroup_size(WG)
fn adjoint_lam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let b = lb[wid.y];
  let n = b.n;
  for (var i = wid.x * WG + lid; i < b.m; i = i + nwg.x * WG) {
    let ri = b.sOff + (n + i) * b.size;
    var cross = 0.0;
    for (var j = 0u; j < n; j = j + 1u) {
      cross = cross + (ls[ri + j] + ls[b.sOff + j * b.size + n + i]) * lw[b.wOff + i * n + j];
    }
    lg[b.lamOff + i] = 2.0 * ls[ri + n + i] - b.apb * cross + ls[AG.nonnegOff + b.lamOff - 1u + i];
  }
}

var<workgroup> red: array<f32, WG>;

@group(0) @binding(0) var<storage, read> rs: array<f32>;
@group(0) @binding(1) var<storage, read_write> rg: array<f32>;
@group(0) @binding(2) var<storage, read> rb: array<Blk>;

@compute @workgroup_size(WG)
fn adjoint_rho(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var k = 0u; k < arrayLength(&rb); k = k + 1u) {
    let b = rb[k];
    if (b.qIn == NONE) {
      for (var i = lid; i < b.n; i = i + WG) { acc = acc + rs[b.sOff + i * b.size + i]; }
    }
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { rg[0] = red[0]; }
}

struct Quad {
  wOff: u32,
  n: u32,
  m: u32,
  tOff: u32,
  outOff: u32,
  coef: f32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<storage, read> qt: array<f32>;
@group(0) @binding(1) var<storage, read_write> qg: array<f32>;
@group(0) @binding(2) var<storage, read> qw: array<f32>;
@group(0) @binding(3) var<storage, read> qq: array<Quad>;

@compute @workgroup_size(WG)
fn quad_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let d = qq[wid.y];
  for (var i = wid.x * WG + lid; i < d.m; i = i + nwg.x * WG) {
    var acc = 0.0;
    for (var a = 0u; a < d.n; a = a + 1u) { acc = acc + qw[d.wOff + i * d.n + a] * qt[d.tOff + a * d.m + i]; }
    qg[d.outOff + i] = qg[d.outOff + i] + d.coef * acc;
  }
}
