//! Elementwise sums: layer 1 from a per-position table, `y = ((b + T₀) + T₁) + …`, one rounded
//! addition per term, in position order. (Every path gives these bits: each element is one
//! IEEE addition.)

/// `y[i] = a[i] + x[i]` (equal lengths, checked by the caller).
#[inline]
pub fn add(a: &[f32], x: &[f32], y: &mut [f32]) {
    for ((y, &a), &x) in y.iter_mut().zip(a).zip(x) {
        *y = a + x;
    }
}

/// `y[i] += x[i]` (equal lengths, checked by the caller).
#[inline]
pub fn add_assign(y: &mut [f32], x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += x;
    }
}
