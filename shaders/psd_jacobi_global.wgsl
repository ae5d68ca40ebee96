// PSD projection for blocks too big for workgroup memory (n > NMAX of psd_jacobi.wgsl): the same
// parallel-order cyclic Jacobi, one workgroup per block, but A is rotated in place in global
// memory (S) and V, the rotation table and the eigenvalues live in a scratch buffer. Slower per
// flop than the shared-memory kernel (every access goes to global memory), but it has no size
// limit besides the binding size, and it keeps the algorithm (and its accuracy) identical.
//
// Scratch layout per block at `soff`: V (n²), cos (m/2), sin (m/2), λ⁺ (n), with m = n + n mod 2.

const WG: u32 = 256u;
const MAX_SWEEPS: u32 = 40u;
const TOL_REL: f32 = 1e-7;

struct Blk {
  off: u32,
  n: u32,
  soff: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read_write> S: array<f32>;
@group(0) @binding(1) var<storage, read> blocks: array<Blk>;
@group(0) @binding(2) var<storage, read_write> W: array<f32>;

var<workgroup> rotated: atomic<u32>;
var<workgroup> flag: u32;
var<workgroup> tol: f32;
var<workgroup> nsh: u32;
var<workgroup> red: array<f32, WG>;

fn pair_of(r: u32, k: u32, m: u32) -> vec2u {
  let mm = m - 1u;
  if (k == 0u) { return vec2u(r % mm, mm); }
  return vec2u((r + k) % mm, (r + mm - k) % mm);
}

fn rotation(app: f32, aqq: f32, apq: f32) -> vec2f {
  let theta = (aqq - app) / (2.0 * apq);
  var t: f32;
  if (abs(theta) > 1e18) {
    t = 0.5 / theta;
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
  if (n == 0u) { return; }
  let off = blocks[wid.x].off;
  let v0 = blocks[wid.x].soff;
  let nn = n * n;
  let m = n + (n & 1u);
  let npairs = m / 2u;
  let c0 = v0 + nn;
  let s0 = c0 + npairs;
  let d0 = s0 + npairs;
  var f = 0.0;
  for (var i = lid; i < nn; i = i + WG) {
    W[v0 + i] = select(0.0, 1.0, i / n == i % n);
    let a = S[off + i];
    f = f + a * a;
  }
  red[lid] = f;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { tol = TOL_REL * sqrt(red[0]) / f32(n); }
  let thr = workgroupUniformLoad(&tol);
  for (var sweep = 0u; sweep < MAX_SWEEPS; sweep = sweep + 1u) {
    if (lid == 0u) { atomicStore(&rotated, 0u); }
    for (var r = 0u; r + 1u < m; r = r + 1u) {
      storageBarrier();
      for (var k = lid; k < npairs; k = k + WG) {
        let pq = pair_of(r, k, m);
        var cs_ = vec2f(1.0, 0.0);
        if (pq.x < n && pq.y < n) {
          let apq = S[off + pq.x * n + pq.y];
          if (abs(apq) > thr) {
            cs_ = rotation(S[off + pq.x * n + pq.x], S[off + pq.y * n + pq.y], apq);
            atomicStore(&rotated, 1u);
          }
        }
        W[c0 + k] = cs_.x;
        W[s0 + k] = cs_.y;
      }
      storageBarrier();
      for (var idx = lid; idx < npairs * n; idx = idx + WG) {
        let k = idx / n;
        let s = W[s0 + k];
        if (s != 0.0) {
          let c = W[c0 + k];
          let pq = pair_of(r, k, m);
          let j = idx % n;
          let ap = S[off + pq.x * n + j];
          let aq = S[off + pq.y * n + j];
          S[off + pq.x * n + j] = c * ap - s * aq;
          S[off + pq.y * n + j] = s * ap + c * aq;
        }
      }
      storageBarrier();
      for (var idx = lid; idx < npairs * n; idx = idx + WG) {
        let k = idx / n;
        let s = W[s0 + k];
        if (s != 0.0) {
          let c = W[c0 + k];
          let pq = pair_of(r, k, m);
          let i = idx % n;
          let ap = S[off + i * n + pq.x];
          let aq = S[off + i * n + pq.y];
          var np = c * ap - s * aq;
          var nq = s * ap + c * aq;
          if (i == pq.y) { np = 0.0; }
          if (i == pq.x) { nq = 0.0; }
          S[off + i * n + pq.x] = np;
          S[off + i * n + pq.y] = nq;
          let vp = W[v0 + i * n + pq.x];
          let vq = W[v0 + i * n + pq.y];
          W[v0 + i * n + pq.x] = c * vp - s * vq;
          W[v0 + i * n + pq.y] = s * vp + c * vq;
        }
      }
    }
    storageBarrier();
    workgroupBarrier();
    if (lid == 0u) { flag = atomicLoad(&rotated); }
    if (workgroupUniformLoad(&flag) == 0u) { break; }
  }
  storageBarrier();
  for (var k = lid; k < n; k = k + WG) { W[d0 + k] = max(S[off + k * n + k], 0.0); }
  storageBarrier();
  for (var idx = lid; idx < nn; idx = idx + WG) {
    let i = idx / n;
    let j = idx % n;
    var acc = 0.0;
    for (var k = 0u; k < n; k = k + 1u) { acc = acc + W[d0 + k] * (W[v0 + i * n + k] * W[v0 + j * n + k]); }
    S[off + idx] = acc;
  }
}
