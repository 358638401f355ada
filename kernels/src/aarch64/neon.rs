//! NEON: 4 f32 lanes; tails go through a small stack buffer (NEON has no masked loads).

#![allow(unsafe_op_in_unsafe_fn)]

use core::arch::aarch64::*;

use crate::simd::Simd;

/// The NEON register set.
#[derive(Clone, Copy)]
pub(crate) struct Neon;

// SAFETY: every function below wraps NEON intrinsics; the "masked" loads and stores copy exactly
// `m` floats through a local buffer, so lanes outside the mask are never accessed.
unsafe impl Simd for Neon {
    const LANES: usize = 4;
    type V = float32x4_t;
    type M = usize;

    #[inline(always)]
    unsafe fn splat(x: f32) -> float32x4_t {
        vdupq_n_f32(x)
    }
    #[inline(always)]
    unsafe fn zero() -> float32x4_t {
        vdupq_n_f32(0.0)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> float32x4_t {
        vld1q_f32(p)
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: float32x4_t) {
        vst1q_f32(p, v)
    }
    #[inline(always)]
    unsafe fn mask(n: usize) -> usize {
        n.min(4)
    }
    #[inline(always)]
    unsafe fn load_m(p: *const f32, m: usize) -> float32x4_t {
        let mut buf = [0.0f32; 4];
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), m);
        vld1q_f32(buf.as_ptr())
    }
    #[inline(always)]
    unsafe fn load_m_or(p: *const f32, m: usize, fill: float32x4_t) -> float32x4_t {
        let mut buf = [0.0f32; 4];
        vst1q_f32(buf.as_mut_ptr(), fill);
        core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), m);
        vld1q_f32(buf.as_ptr())
    }
    #[inline(always)]
    unsafe fn store_m(p: *mut f32, v: float32x4_t, m: usize) {
        let mut buf = [0.0f32; 4];
        vst1q_f32(buf.as_mut_ptr(), v);
        core::ptr::copy_nonoverlapping(buf.as_ptr(), p, m);
    }
    #[inline(always)]
    unsafe fn add(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vaddq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn sub(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vsubq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn mul(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vmulq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn div(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vdivq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn fma(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        vfmaq_f32(c, a, b)
    }
    #[inline(always)]
    unsafe fn fnma(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        vfmsq_f32(c, a, b)
    }
    #[inline(always)]
    unsafe fn max(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        vmaxnmq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn min_keep_nan(a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // fmin propagates NaN from either operand.
        vminq_f32(a, b)
    }
    #[inline(always)]
    unsafe fn abs(a: float32x4_t) -> float32x4_t {
        vabsq_f32(a)
    }
    #[inline(always)]
    unsafe fn copysign(mag: float32x4_t, sign: float32x4_t) -> float32x4_t {
        vbslq_f32(vdupq_n_u32(0x8000_0000), sign, vabsq_f32(mag))
    }
    #[inline(always)]
    unsafe fn select_lt(
        a: float32x4_t,
        b: float32x4_t,
        t: float32x4_t,
        f: float32x4_t,
    ) -> float32x4_t {
        vbslq_f32(vcltq_f32(a, b), t, f)
    }
    #[inline(always)]
    unsafe fn select_ge(
        a: float32x4_t,
        b: float32x4_t,
        t: float32x4_t,
        f: float32x4_t,
    ) -> float32x4_t {
        vbslq_f32(vcgeq_f32(a, b), t, f)
    }
    #[inline(always)]
    unsafe fn round(a: float32x4_t) -> float32x4_t {
        vrndnq_f32(a)
    }
    #[inline(always)]
    unsafe fn pow2i(k: float32x4_t) -> float32x4_t {
        let e = vaddq_s32(vcvtnq_s32_f32(k), vdupq_n_s32(127));
        vreinterpretq_f32_s32(vshlq_n_s32::<23>(e))
    }
    #[inline(always)]
    unsafe fn reduce_max(a: float32x4_t) -> f32 {
        vmaxnmvq_f32(a)
    }
    #[inline(always)]
    unsafe fn gather_stride(p: *const f32, stride: usize, m: usize) -> float32x4_t {
        let mut buf = [0.0f32; 4];
        for (i, b) in buf.iter_mut().enumerate().take(m) {
            *b = *p.add(i * stride);
        }
        vld1q_f32(buf.as_ptr())
    }
}

crate::simd::entry_points!(Neon, "neon");
