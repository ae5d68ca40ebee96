// First step of the normal-equation solve (mirrors src/lmi/normal.ts): the reduced right-hand
// side in the small variables z = (ρ, λ), written into out[0 .. 1+Σλ):
//   z_ρ = r_ρ,   z_{λ_k,i} = r_{λ_k,i} + (r_{Q_k})_{ii}      (Q_k's producer term −2 e_i e_iᵀ)
// The consumer term −αβ·w_jᵀ R w_j is added afterwards by gemm.wgsl + quad_rows (fc_adjoint.wgsl).
// Launch: workgroup_id.y = block index (fcLast blocks have m = 0 and do nothing).

const WG: u32 = 256u;

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

@group(0) @binding(0) var<storage, read> R: array<f32>;
@group(0) @binding(1) var<storage, read_write> Out: array<f32>;
@group(0) @binding(2) var<storage, read> blks: array<Blk>;

@compute @workgroup_size(WG)
fn rhs_init(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  if (wid.y == 0u && wid.x == 0u && lid == 0u) { Out[0] = R[0]; }
  let b = blks[wid.y];
  for (var i = wid.x * WG + lid; i < b.m; i = i + nwg.x * WG) {
    Out[b.lamOff + i] = R[b.lamOff + i] + R[b.qOut + i * b.m + i];
  }
}
