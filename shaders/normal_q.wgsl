// Last step of the normal-equation solve (mirrors src/lmi/normal.ts): with z = (ρ, λ) solved in
// out[0 .. 1+Σλ), reconstruct every Q_k = (r_Q − Σ_v z_v g_v)/2, here its first two terms:
//   Q_k ← r_{Q_k}/2 + diag(z_{λ_k})
// The consumer term −αβ·Wᵀ diag(z_{λ_{k+1}}) W is added afterwards by scale_rows + gemm.wgsl.
// Launch: workgroup_id.y = Q index.

const WG: u32 = 256u;

struct QDesc {
  qOff: u32,
  m: u32,
  prodOff: u32,
  prodLd: u32,
  consOff: u32,
  consLd: u32,
  prodLam: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read> R: array<f32>;
@group(0) @binding(1) var<storage, read_write> Out: array<f32>;
@group(0) @binding(2) var<storage, read> qd: array<QDesc>;

@compute @workgroup_size(WG)
fn q_init(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lid: u32) {
  let d = qd[wid.y];
  for (var idx = wid.x * WG + lid; idx < d.m * d.m; idx = idx + nwg.x * WG) {
    let r = idx / d.m;
    var v = 0.5 * R[d.qOff + idx];
    if (r == idx % d.m) { v = v + Out[d.prodLam + r]; }
    Out[d.qOff + idx] = v;
  }
}
