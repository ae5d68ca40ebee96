// s ← A x for fully connected LMI blocks (mirrors src/lmi/fc-ops.ts applyA), gather form: one
// invocation per entry of s, so no two invocations write the same element.
//   fc block (size n+m):  [[Q_in or ρI, −(α+β)WᵀΛ], [−(α+β)ΛW, 2Λ − Q_out]]
//   fcLast block (size n): Q_in or ρI
// The 2αβ·WᵀΛW term of the (1,1) corner is added afterwards by gemm.wgsl (β = 1) from the
// row-scaled copy ΛW that `scale_rows` writes into a temp buffer.
// Launch: workgroup_id.y = block index; y = nBlocks is the λ copy s[nonneg + i] = x[1 + i].

const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;

struct Blk {
  sOff: u32,
  size: u32,
  n: u32,
  m: u32,
  wOff: u32,
  lamOff: u32,
  qIn: u32,  // offset of Q_in in x, or NONE for ρI
  qOut: u32, // offset of Q_out in x (fc) or NONE (fcLast)
  tOff: u32,
  ab2: f32,  // 2αβ
  apb: f32,  // α+β
  pad: u32,
}

struct Globals {
  nBlocks: u32,
  nonnegOff: u32,
  lamLen: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> blks: array<Blk>;
@group(0) @binding(4) var<uniform> G: Globals;

@compute @workgroup_size(WG)
fn assemble(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let stride = nwg.x * WG;
  if (wid.y == G.nBlocks) {
    for (var i = wid.x * WG + lid; i < G.lamLen; i = i + stride) { S[G.nonnegOff + i] = X[1u + i]; }
    return;
  }
  let b = blks[wid.y];
  let size = b.size;
  let n = b.n;
  for (var idx = wid.x * WG + lid; idx < size * size; idx = idx + stride) {
    let r = idx / size;
    let c = idx % size;
    var v: f32;
    if (r < n && c < n) {
      if (b.qIn == NONE) { v = select(0.0, X[0], r == c); } else { v = X[b.qIn + r * n + c]; }
    } else if (c < n) {
      let i = r - n;
      v = -b.apb * X[b.lamOff + i] * Wt[b.wOff + i * n + c];
    } else if (r < n) {
      let i = c - n;
      v = -b.apb * X[b.lamOff + i] * Wt[b.wOff + i * n + r];
    } else {
      let i = r - n;
      let j = c - n;
      v = -X[b.qOut + i * b.m + j];
      if (i == j) { v = v + 2.0 * X[b.lamOff + i]; }
    }
    S[b.sOff + idx] = v;
  }
}

// ---- T_k ← diag(c) · W_k, with c read from an x-space vector at cOff (λ_k, or z in the normal
// solve): the right factor of the batched GEMM Wᵀ·diag(c)·W. ----

struct Scale {
  wOff: u32,
  n: u32,
  m: u32,
  cOff: u32,
  tOff: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<storage, read> sc: array<f32>;
@group(0) @binding(1) var<storage, read_write> st: array<f32>;
@group(0) @binding(2) var<storage, read> sw: array<f32>;
@group(0) @binding(3) var<storage, read> sd: array<Scale>;

@compute @workgroup_size(WG)
fn scale_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let d = sd[wid.y];
  for (var idx = wid.x * WG + lid; idx < d.m * d.n; idx = idx + nwg.x * WG) {
    st[d.tOff + idx] = sc[d.cOff + idx / d.n] * sw[d.wOff + idx];
  }
}
