;; lipdp's f64 row kernels in WebAssembly SIMD (f64x2): the inner loops of linalg/dense.ts and
;; linalg/cholesky.ts, which V8 runs as scalar code bound by loads and issue slots. Compiled to
;; kernels-bytes.ts by scripts/build-wasm.mjs (wabt); loaded by kernels.ts. All addresses are
;; element indices (f64) into the one exported memory.
;;
;; Rounding: sub4 / sub1 evaluate every output element in exactly the order of the JavaScript
;; loops they replace (bit-identical results). dots4x2 keeps two partial sums per output (even and
;; odd k, one per lane) and adds them at the end, then the last k when len is odd.
(module
  (memory (export "memory") 1)

  ;; out[2r + c] = Σ_{k < len} m[x + r·n + k] · m[y + c·n + k]   for r < 4, c < 2.
  (func (export "dots4x2") (param $x i32) (param $y i32) (param $n i32) (param $len i32) (param $out i32)
    (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $y1 i32) (local $k i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local $t00 f64) (local $t01 f64) (local $t10 f64) (local $t11 f64)
    (local $t20 f64) (local $t21 f64) (local $t30 f64) (local $t31 f64)
    (local $c0 f64) (local $c1 f64) (local $d0 f64) (local $d1 f64) (local $d2 f64) (local $d3 f64)
    ;; byte addresses from here on
    (local.set $n (i32.shl (local.get $n) (i32.const 3)))
    (local.set $x (i32.shl (local.get $x) (i32.const 3)))
    (local.set $y (i32.shl (local.get $y) (i32.const 3)))
    (local.set $out (i32.shl (local.get $out) (i32.const 3)))
    (local.set $x1 (i32.add (local.get $x) (local.get $n)))
    (local.set $x2 (i32.add (local.get $x1) (local.get $n)))
    (local.set $x3 (i32.add (local.get $x2) (local.get $n)))
    (local.set $y1 (i32.add (local.get $y) (local.get $n)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $b0 (v128.load (i32.add (local.get $y) (local.get $k))))
        (local.set $b1 (v128.load (i32.add (local.get $y1) (local.get $k))))
        (local.set $a0 (v128.load (i32.add (local.get $x) (local.get $k))))
        (local.set $a1 (v128.load (i32.add (local.get $x1) (local.get $k))))
        (local.set $a2 (v128.load (i32.add (local.get $x2) (local.get $k))))
        (local.set $a3 (v128.load (i32.add (local.get $x3) (local.get $k))))
        (local.set $s00 (f64x2.add (local.get $s00) (f64x2.mul (local.get $a0) (local.get $b0))))
        (local.set $s01 (f64x2.add (local.get $s01) (f64x2.mul (local.get $a0) (local.get $b1))))
        (local.set $s10 (f64x2.add (local.get $s10) (f64x2.mul (local.get $a1) (local.get $b0))))
        (local.set $s11 (f64x2.add (local.get $s11) (f64x2.mul (local.get $a1) (local.get $b1))))
        (local.set $s20 (f64x2.add (local.get $s20) (f64x2.mul (local.get $a2) (local.get $b0))))
        (local.set $s21 (f64x2.add (local.get $s21) (f64x2.mul (local.get $a2) (local.get $b1))))
        (local.set $s30 (f64x2.add (local.get $s30) (f64x2.mul (local.get $a3) (local.get $b0))))
        (local.set $s31 (f64x2.add (local.get $s31) (f64x2.mul (local.get $a3) (local.get $b1))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $pairs)))
    (local.set $t00 (f64.add (f64x2.extract_lane 0 (local.get $s00)) (f64x2.extract_lane 1 (local.get $s00))))
    (local.set $t01 (f64.add (f64x2.extract_lane 0 (local.get $s01)) (f64x2.extract_lane 1 (local.get $s01))))
    (local.set $t10 (f64.add (f64x2.extract_lane 0 (local.get $s10)) (f64x2.extract_lane 1 (local.get $s10))))
    (local.set $t11 (f64.add (f64x2.extract_lane 0 (local.get $s11)) (f64x2.extract_lane 1 (local.get $s11))))
    (local.set $t20 (f64.add (f64x2.extract_lane 0 (local.get $s20)) (f64x2.extract_lane 1 (local.get $s20))))
    (local.set $t21 (f64.add (f64x2.extract_lane 0 (local.get $s21)) (f64x2.extract_lane 1 (local.get $s21))))
    (local.set $t30 (f64.add (f64x2.extract_lane 0 (local.get $s30)) (f64x2.extract_lane 1 (local.get $s30))))
    (local.set $t31 (f64.add (f64x2.extract_lane 0 (local.get $s31)) (f64x2.extract_lane 1 (local.get $s31))))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (local.set $c0 (f64.load (i32.add (local.get $y) (local.get $k))))
        (local.set $c1 (f64.load (i32.add (local.get $y1) (local.get $k))))
        (local.set $d0 (f64.load (i32.add (local.get $x) (local.get $k))))
        (local.set $d1 (f64.load (i32.add (local.get $x1) (local.get $k))))
        (local.set $d2 (f64.load (i32.add (local.get $x2) (local.get $k))))
        (local.set $d3 (f64.load (i32.add (local.get $x3) (local.get $k))))
        (local.set $t00 (f64.add (local.get $t00) (f64.mul (local.get $d0) (local.get $c0))))
        (local.set $t01 (f64.add (local.get $t01) (f64.mul (local.get $d0) (local.get $c1))))
        (local.set $t10 (f64.add (local.get $t10) (f64.mul (local.get $d1) (local.get $c0))))
        (local.set $t11 (f64.add (local.get $t11) (f64.mul (local.get $d1) (local.get $c1))))
        (local.set $t20 (f64.add (local.get $t20) (f64.mul (local.get $d2) (local.get $c0))))
        (local.set $t21 (f64.add (local.get $t21) (f64.mul (local.get $d2) (local.get $c1))))
        (local.set $t30 (f64.add (local.get $t30) (f64.mul (local.get $d3) (local.get $c0))))
        (local.set $t31 (f64.add (local.get $t31) (f64.mul (local.get $d3) (local.get $c1))))))
    (f64.store offset=0 (local.get $out) (local.get $t00))
    (f64.store offset=8 (local.get $out) (local.get $t01))
    (f64.store offset=16 (local.get $out) (local.get $t10))
    (f64.store offset=24 (local.get $out) (local.get $t11))
    (f64.store offset=32 (local.get $out) (local.get $t20))
    (f64.store offset=40 (local.get $out) (local.get $t21))
    (f64.store offset=48 (local.get $out) (local.get $t30))
    (f64.store offset=56 (local.get $out) (local.get $t31)))

  ;; m[dst + j] −= w0·m[s0 + j] + w1·m[s1 + j] + w2·m[s2 + j] + w3·m[s3 + j]   for j < len
  ;; (the sum left to right, then the subtraction: the order of the JavaScript loop).
  (func (export "sub4") (param $dst i32) (param $s0 i32) (param $s1 i32) (param $s2 i32) (param $s3 i32)
        (param $w0 f64) (param $w1 f64) (param $w2 f64) (param $w3 f64) (param $len i32)
    (local $j i32) (local $end i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local.set $dst (i32.shl (local.get $dst) (i32.const 3)))
    (local.set $s0 (i32.shl (local.get $s0) (i32.const 3)))
    (local.set $s1 (i32.shl (local.get $s1) (i32.const 3)))
    (local.set $s2 (i32.shl (local.get $s2) (i32.const 3)))
    (local.set $s3 (i32.shl (local.get $s3) (i32.const 3)))
    (local.set $v0 (f64x2.splat (local.get $w0)))
    (local.set $v1 (f64x2.splat (local.get $w1)))
    (local.set $v2 (f64x2.splat (local.get $w2)))
    (local.set $v3 (f64x2.splat (local.get $w3)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (v128.store (i32.add (local.get $dst) (local.get $j))
          (f64x2.sub (v128.load (i32.add (local.get $dst) (local.get $j)))
            (f64x2.add
              (f64x2.add
                (f64x2.add
                  (f64x2.mul (local.get $v0) (v128.load (i32.add (local.get $s0) (local.get $j))))
                  (f64x2.mul (local.get $v1) (v128.load (i32.add (local.get $s1) (local.get $j)))))
                (f64x2.mul (local.get $v2) (v128.load (i32.add (local.get $s2) (local.get $j)))))
              (f64x2.mul (local.get $v3) (v128.load (i32.add (local.get $s3) (local.get $j)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (f64.store (i32.add (local.get $dst) (local.get $j))
          (f64.sub (f64.load (i32.add (local.get $dst) (local.get $j)))
            (f64.add
              (f64.add
                (f64.add
                  (f64.mul (local.get $w0) (f64.load (i32.add (local.get $s0) (local.get $j))))
                  (f64.mul (local.get $w1) (f64.load (i32.add (local.get $s1) (local.get $j)))))
                (f64.mul (local.get $w2) (f64.load (i32.add (local.get $s2) (local.get $j)))))
              (f64.mul (local.get $w3) (f64.load (i32.add (local.get $s3) (local.get $j))))))))))

  ;; m[dst + j] −= w·m[src + j]   for j < len.
  (func (export "sub1") (param $dst i32) (param $src i32) (param $w f64) (param $len i32)
    (local $j i32) (local $end i32) (local $v v128)
    (local.set $dst (i32.shl (local.get $dst) (i32.const 3)))
    (local.set $src (i32.shl (local.get $src) (i32.const 3)))
    (local.set $v (f64x2.splat (local.get $w)))
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $j) (local.get $end)))
        (v128.store (i32.add (local.get $dst) (local.get $j))
          (f64x2.sub (v128.load (i32.add (local.get $dst) (local.get $j)))
            (f64x2.mul (local.get $v) (v128.load (i32.add (local.get $src) (local.get $j))))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (f64.store (i32.add (local.get $dst) (local.get $j))
          (f64.sub (f64.load (i32.add (local.get $dst) (local.get $j)))
            (f64.mul (local.get $w) (f64.load (i32.add (local.get $src) (local.get $j)))))))))
)
