//! Row-major matrices with run-time dimensions: the operands of every kernel.
//!
//! A [`Mat`] (read) or [`MatMut`] (write) is a slice plus its number of rows and columns; the
//! length is checked once, when the matrix is made, and every kernel then checks that its
//! operands agree ([`crate::KernelError::Shape`]) before it touches memory.

use crate::KernelError;

/// A borrowed row-major `rows × cols` matrix.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
}

/// A mutably borrowed row-major `rows × cols` matrix.
#[derive(Debug)]
pub struct MatMut<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
}

fn check_len(len: usize, rows: usize, cols: usize) -> Result<(), KernelError> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(KernelError::Shape {
            what: "matrix length (rows × columns)",
            expected: rows.saturating_mul(cols),
            found: len,
        }),
    }
}

impl<'a> Mat<'a> {
    /// `data` as a `rows × cols` matrix.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `data.len() == rows · cols`.
    ///
    /// ```
    /// use charmlp_kernels::Mat;
    /// let m = Mat::new(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3)?;
    /// assert_eq!(m.row(1), &[4.0, 5.0, 6.0]);
    /// assert!(Mat::new(&[1.0, 2.0], 2, 3).is_err());
    /// # Ok::<(), charmlp_kernels::KernelError>(())
    /// ```
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Result<Self, KernelError> {
        check_len(data.len(), rows, cols)?;
        Ok(Mat { data, rows, cols })
    }

    /// The first `rows` rows of `data`, each `cols` wide (for buffers with spare capacity).
    ///
    /// # Errors
    /// [`KernelError::Shape`] if `data` has fewer than `rows · cols` elements.
    pub fn prefix(data: &'a [f32], rows: usize, cols: usize) -> Result<Self, KernelError> {
        let n = rows.checked_mul(cols).filter(|&n| n <= data.len());
        match n {
            Some(n) => Ok(Mat {
                data: &data[..n],
                rows,
                cols,
            }),
            None => Err(KernelError::Shape {
                what: "buffer capacity (rows × columns)",
                expected: rows.saturating_mul(cols),
                found: data.len(),
            }),
        }
    }

    /// A vector as a `1 × n` matrix.
    pub fn row_vector(data: &'a [f32]) -> Self {
        Mat {
            data,
            rows: 1,
            cols: data.len(),
        }
    }

    /// Rows.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub const fn cols(&self) -> usize {
        self.cols
    }

    /// The elements, row after row.
    pub const fn as_slice(&self) -> &'a [f32] {
        self.data
    }

    /// Row `i` (panics if `i ≥ rows`, like slice indexing).
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

impl<'a, const C: usize> From<&'a [[f32; C]]> for Mat<'a> {
    fn from(rows: &'a [[f32; C]]) -> Self {
        Mat {
            data: rows.as_flattened(),
            rows: rows.len(),
            cols: C,
        }
    }
}

impl<'a, const R: usize, const C: usize> From<&'a [[f32; C]; R]> for Mat<'a> {
    fn from(rows: &'a [[f32; C]; R]) -> Self {
        Mat::from(&rows[..])
    }
}

impl<'a> MatMut<'a> {
    /// `data` as a `rows × cols` matrix.
    ///
    /// # Errors
    /// [`KernelError::Shape`] unless `data.len() == rows · cols`.
    pub fn new(data: &'a mut [f32], rows: usize, cols: usize) -> Result<Self, KernelError> {
        check_len(data.len(), rows, cols)?;
        Ok(MatMut { data, rows, cols })
    }

    /// The first `rows` rows of `data`, each `cols` wide (for buffers with spare capacity).
    ///
    /// # Errors
    /// [`KernelError::Shape`] if `data` has fewer than `rows · cols` elements.
    pub fn prefix(data: &'a mut [f32], rows: usize, cols: usize) -> Result<Self, KernelError> {
        let cap = data.len();
        match rows.checked_mul(cols).filter(|&n| n <= cap) {
            Some(n) => Ok(MatMut {
                data: &mut data[..n],
                rows,
                cols,
            }),
            None => Err(KernelError::Shape {
                what: "buffer capacity (rows × columns)",
                expected: rows.saturating_mul(cols),
                found: cap,
            }),
        }
    }

    /// A vector as a `1 × n` matrix.
    pub fn row_vector(data: &'a mut [f32]) -> Self {
        let cols = data.len();
        MatMut {
            data,
            rows: 1,
            cols,
        }
    }

    /// Rows.
    pub const fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub const fn cols(&self) -> usize {
        self.cols
    }

    /// A shorter-lived read view.
    pub fn as_mat(&self) -> Mat<'_> {
        Mat {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// A shorter-lived mutable view (to pass to a kernel and keep using this one).
    pub fn reborrow(&mut self) -> MatMut<'_> {
        MatMut {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// The elements, row after row.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        self.data
    }

    /// The elements, row after row (read).
    pub fn as_slice(&self) -> &[f32] {
        self.data
    }

    /// Gives back the borrowed slice.
    pub fn into_slice(self) -> &'a mut [f32] {
        self.data
    }
}

impl<'a, const C: usize> From<&'a mut [[f32; C]]> for MatMut<'a> {
    fn from(rows: &'a mut [[f32; C]]) -> Self {
        let n = rows.len();
        MatMut {
            data: rows.as_flattened_mut(),
            rows: n,
            cols: C,
        }
    }
}

impl<'a, const R: usize, const C: usize> From<&'a mut [[f32; C]; R]> for MatMut<'a> {
    fn from(rows: &'a mut [[f32; C]; R]) -> Self {
        MatMut::from(&mut rows[..])
    }
}
