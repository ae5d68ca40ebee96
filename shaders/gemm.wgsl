// Batched, strided, tiled GEMM:  C ← α·op(A)·op(B) + β·C  for every problem in `descs`.
// One problem per workgroup_id.z; 16×16 output tile per workgroup, K consumed in 16-wide tiles
// staged in workgroup memory. op(X) is X or Xᵀ (flags), each operand has its own element offset
// and leading dimension, so sub-blocks of a bigger matrix (a corner of an LMI block, a Q_k inside
// the x vector) are addressed in place — the same kernel serves the dense-layer products
// (WᵀΛW, S·Wᵀ, …) and, later, the Roesser products of conv layers (AᵀPA, BᵀPB, CᵀΛ, …).
// β = 0 never reads C (so an uninitialised C is fine).

struct Gemm {
  M: u32,
  N: u32,
  K: u32,
  flags: u32, // bit 0: op(A) = Aᵀ; bit 1: op(B) = Bᵀ
  aOff: u32,
  lda: u32,
  bOff: u32,
  ldb: u32,
  cOff: u32,
  ldc: u32,
  alpha: f32,
  beta: f32,
}

const T: u32 = 16u;

@group(0) @binding(0) var<storage, read> Am: array<f32>;
@group(0) @binding(1) var<storage, read> Bm: array<f32>;
@group(0) @binding(2) var<storage, read_write> Cm: array<f32>;
@group(0) @binding(3) var<storage, read> descs: array<Gemm>;

var<workgroup> ta: array<f32, 256>; // ta[i*16 + k] = op(A)[row0+i, k0+k]
var<workgroup> tb: array<f32, 256>; // tb[k*16 + j] = op(B)[k0+k, col0+j]

@compute @workgroup_size(16, 16)
fn gemm(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let d = descs[wid.z];
  let row0 = wid.y * T;
  let col0 = wid.x * T;
  // Uniform per workgroup: tiles beyond this problem's extent (the grid covers the largest one).
  if (row0 >= d.M || col0 >= d.N) { return; }
  let i = lid.y;
  let j = lid.x;
  let ta_t = (d.flags & 1u) != 0u;
  let tb_t = (d.flags & 2u) != 0u;
  var acc = 0.0;
  for (var k0 = 0u; k0 < d.K; k0 = k0 + T) {
    // Thread (i, j) loads op(A)[row0+i, k0+j] and op(B)[k0+i, col0+j]; zero outside the matrix.
    let ar = row0 + i;
    let ak = k0 + j;
    var av = 0.0;
    if (ar < d.M && ak < d.K) {
      if (ta_t) { av = Am[d.aOff + ak * d.lda + ar]; } else { av = Am[d.aOff + ar * d.lda + ak]; }
    }
    ta[i * T + j] = av;
    let bk = k0 + i;
    let bc = col0 + j;
    var bv = 0.0;
    if (bk < d.K && bc < d.N) {
      if (tb_t) { bv = Bm[d.bOff + bc * d.ldb + bk]; } else { bv = Bm[d.bOff + bk * d.ldb + bc]; }
    }
    tb[i * T + j] = bv;
    workgroupBarrier();
    for (var k = 0u; k < T; k = k + 1u) { acc = acc + ta[i * T + k] * tb[k * T + j]; }
    workgroupBarrier();
  }
  let r = row0 + i;
  let c = col0 + j;
  if (r < d.M && c < d.N) {
    let ci = d.cOff + r * d.ldc + c;
    var v = d.alpha * acc;
    if (d.beta != 0.0) { v = v + d.beta * Cm[ci]; }
    Cm[ci] = v;
  }
}

// Register-blocked variant of the same op (same descriptors and bindings): each invocation keeps
// an 8×8 block of C in registers (16 vec4 accumulators) and reads its operands straight from
// storage, no workgroup memory and no barriers; an 8×8 workgroup covers a 64×64 tile. On a
// CPU-emulated adapter (lavapipe, SwiftShader) barriers are emulated in software and
// workgroup-memory staging buys nothing, so this variant is the fast one there; on hardware GPUs
// the tiled one above may win. GemmKernel.create times both and keeps the faster.
const RB: u32 = 8u;

@compute @workgroup_size(8, 8)
fn gemm_reg(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let d = descs[wid.z];
  let row0 = wid.y * 64u + lid.y * RB;
  let col0 = wid.x * 64u + lid.x * RB;
  // No barriers below, so invocations outside the problem may leave on their own.
  if (row0 >= d.M || col0 >= d.N) { return; }
  // op(A)[r, k] = Am[aOff + r·sar + k·sak]; op(B)[k, c] = Bm[bOff + k·sbk + c·sbc].
  var sar = d.lda;
  var sak = 1u;
  if ((d.flags & 1u) != 0u) { sar = 1u; sak = d.lda; }
  var sbk = d.ldb;
  var sbc = 1u;
  if ((d.flags & 2u) != 0u) { sbk = 1u; sbc = d.ldb; }
  // Rows and columns past the edge read the last valid one (their results are never stored), so
  // every load stays inside this problem's operands.
  var ar: array<u32, 8>;
  var bc: array<u32, 8>;
  for (var i = 0u; i < RB; i = i + 1u) {
    ar[i] = d.aOff + min(row0 + i, d.M - 1u) * sar;
    bc[i] = d.bOff + min(col0 + i, d.N - 1u) * sbc;
  }
  // 16 named accumulators (row i, column half h): straight-line code, so the compiler keeps them
  // in registers instead of an indexed array.
  var c00 = vec4f(0.0); var c01 = vec4f(0.0); var c10 = vec4f(0.0); var c11 = vec4f(0.0);
  var c20 = vec4f(0.0); var c21 = vec4f(0.0); var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  var c40 = vec4f(0.0); var c41 = vec4f(0.0); var c50 = vec4f(0.0); var c51 = vec4f(0.0);
  var c60 = vec4f(0.0); var c61 = vec4f(0.0); var c70 = vec4f(0.0); var c71 = vec4f(0.0);
  let a0 = ar[0]; let a1 = ar[1]; let a2 = ar[2]; let a3 = ar[3];
  let a4 = ar[4]; let a5 = ar[5]; let a6 = ar[6]; let a7 = ar[7];
  let q0 = bc[0]; let q1 = bc[1]; let q2 = bc[2]; let q3 = bc[3];
  let q4 = bc[4]; let q5 = bc[5]; let q6 = bc[6]; let q7 = bc[7];
  for (var k = 0u; k < d.K; k = k + 1u) {
    let ka = k * sak;
    let kb = k * sbk;
    let b0 = vec4f(Bm[q0 + kb], Bm[q1 + kb], Bm[q2 + kb], Bm[q3 + kb]);
    let b1 = vec4f(Bm[q4 + kb], Bm[q5 + kb], Bm[q6 + kb], Bm[q7 + kb]);
    var x = Am[a0 + ka]; c00 = fma(vec4f(x), b0, c00); c01 = fma(vec4f(x), b1, c01);
    x = Am[a1 + ka]; c10 = fma(vec4f(x), b0, c10); c11 = fma(vec4f(x), b1, c11);
    x = Am[a2 + ka]; c20 = fma(vec4f(x), b0, c20); c21 = fma(vec4f(x), b1, c21);
    x = Am[a3 + ka]; c30 = fma(vec4f(x), b0, c30); c31 = fma(vec4f(x), b1, c31);
    x = Am[a4 + ka]; c40 = fma(vec4f(x), b0, c40); c41 = fma(vec4f(x), b1, c41);
    x = Am[a5 + ka]; c50 = fma(vec4f(x), b0, c50); c51 = fma(vec4f(x), b1, c51);
    x = Am[a6 + ka]; c60 = fma(vec4f(x), b0, c60); c61 = fma(vec4f(x), b1, c61);
    x = Am[a7 + ka]; c70 = fma(vec4f(x), b0, c70); c71 = fma(vec4f(x), b1, c71);
  }
  let acc = array<vec4f, 16>(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
  for (var i = 0u; i < RB; i = i + 1u) {
    let r = row0 + i;
    if (r >= d.M) { break; }
    for (var j = 0u; j < RB; j = j + 1u) {
      let c = col0 + j;
      if (c >= d.N) { break; }
      let ci = d.cOff + r * d.ldc + c;
      var v = d.alpha * acc[2u * i + j / 4u][j % 4u];
      if (d.beta != 0.0) { v = v + d.beta * Cm[ci]; }
      Cm[ci] = v;
    }
  }
}
