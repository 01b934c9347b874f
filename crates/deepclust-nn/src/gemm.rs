//! The one GEMM seam of the training core.
//!
//! Every matrix product in the crate goes through [`matmul`], so swapping the backend
//! (for example OpenBLAS behind a feature) touches this file only. The default backend is
//! the pure-Rust `gemm` crate: no system library, runtime AVX2/AVX-512 dispatch, and
//! multi-threading on the global rayon pool.
//!
//! All matrices are dense, row-major `f32` slices.

/// Whether an operand is used as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transpose {
    /// Use the matrix as stored.
    No,
    /// Use the transpose of the stored matrix.
    Yes,
}

/// How [`matmul`] combines the product with the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accumulate {
    /// `c = a * b` (the previous content of `c` is ignored, it may be garbage).
    Overwrite,
    /// `c += a * b`.
    Add,
}

/// A row-major operand: its storage and its logical use.
#[derive(Debug, Clone, Copy)]
pub struct Operand<'a> {
    /// Row-major storage.
    pub data: &'a [f32],
    /// Whether the stored matrix is used transposed.
    pub transpose: Transpose,
}

impl<'a> Operand<'a> {
    /// The stored matrix as is.
    pub fn plain(data: &'a [f32]) -> Self {
        Self {
            data,
            transpose: Transpose::No,
        }
    }
    /// The transpose of the stored matrix.
    pub fn transposed(data: &'a [f32]) -> Self {
        Self {
            data,
            transpose: Transpose::Yes,
        }
    }
}

#[cfg_attr(feature = "openblas", allow(dead_code))]
/// Row and column strides of a logical `rows x cols` operand stored row-major.
fn strides(transpose: Transpose, rows: usize, cols: usize) -> (isize, isize) {
    // (row stride, column stride) in elements.
    match transpose {
        Transpose::No => (cols as isize, 1),
        // Stored as cols x rows: element (i, j) lives at j * rows + i.
        Transpose::Yes => (1, rows as isize),
    }
}

/// `c (m x n) = [c +] op(a) (m x k) * op(b) (k x n)`, row-major `f32`, using all threads
/// of the current rayon pool when the product is large enough to profit.
///
/// # Panics
///
/// Panics if a slice is shorter than its shape requires: shapes are set by the layer code
/// of this crate, never by user input, so a mismatch is a bug, not an input error.
pub fn matmul(
    m: usize,
    n: usize,
    k: usize,
    a: Operand<'_>,
    b: Operand<'_>,
    c: &mut [f32],
    accumulate: Accumulate,
) {
    assert!(
        a.data.len() >= m * k,
        "gemm: lhs has {} elements, needs {}",
        a.data.len(),
        m * k
    );
    assert!(
        b.data.len() >= k * n,
        "gemm: rhs has {} elements, needs {}",
        b.data.len(),
        k * n
    );
    assert!(
        c.len() >= m * n,
        "gemm: dst has {} elements, needs {}",
        c.len(),
        m * n
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if accumulate == Accumulate::Overwrite {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let read_dst = accumulate == Accumulate::Add;
    #[cfg(feature = "openblas")]
    {
        openblas::sgemm(m, n, k, a, b, c, read_dst);
    }
    #[cfg(not(feature = "openblas"))]
    {
        let (a_rs, a_cs) = strides(a.transpose, m, k);
        let (b_rs, b_cs) = strides(b.transpose, k, n);
        run_gemm(m, n, k, a.data, a_rs, a_cs, b.data, b_rs, b_cs, c, read_dst);
    }
}

/// Name of the GEMM backend compiled in ("gemm" or "openblas"), for benchmark reports.
pub const BACKEND: &str = if cfg!(feature = "openblas") {
    "openblas"
} else {
    "gemm"
};

/// OpenBLAS' `cblas_sgemm` (Debian: libopenblas-dev), behind the `openblas` feature.
#[cfg(feature = "openblas")]
#[allow(unsafe_code)]
mod openblas {
    use super::{Operand, Transpose};

    const ROW_MAJOR: i32 = 101;
    const NO_TRANS: i32 = 111;
    const TRANS: i32 = 112;

    #[link(name = "openblas")]
    extern "C" {
        fn cblas_sgemm(
            order: i32,
            trans_a: i32,
            trans_b: i32,
            m: i32,
            n: i32,
            k: i32,
            alpha: f32,
            a: *const f32,
            lda: i32,
            b: *const f32,
            ldb: i32,
            beta: f32,
            c: *mut f32,
            ldc: i32,
        );
    }

    fn int(v: usize) -> i32 {
        i32::try_from(v)
            .unwrap_or_else(|_| panic!("matrix dimension {v} exceeds the BLAS int range"))
    }

    pub(super) fn sgemm(
        m: usize,
        n: usize,
        k: usize,
        a: Operand<'_>,
        b: Operand<'_>,
        c: &mut [f32],
        read_dst: bool,
    ) {
        // Leading dimensions of the stored (row-major) matrices.
        let (trans_a, lda) = match a.transpose {
            Transpose::No => (NO_TRANS, k),
            Transpose::Yes => (TRANS, m),
        };
        let (trans_b, ldb) = match b.transpose {
            Transpose::No => (NO_TRANS, n),
            Transpose::Yes => (TRANS, k),
        };
        let beta = if read_dst { 1.0 } else { 0.0 };
        // SAFETY: `matmul` checked the slice lengths against (m, n, k); the leading
        // dimensions describe exactly those row-major layouts; `c` is exclusively borrowed.
        unsafe {
            cblas_sgemm(
                ROW_MAJOR,
                trans_a,
                trans_b,
                int(m),
                int(n),
                int(k),
                1.0,
                a.data.as_ptr(),
                int(lda.max(1)),
                b.data.as_ptr(),
                int(ldb.max(1)),
                beta,
                c.as_mut_ptr(),
                int(n.max(1)),
            );
        }
    }
}

/// The only unsafe call of the default backend: `gemm::gemm` takes raw pointers and strides.
#[cfg_attr(feature = "openblas", allow(dead_code))]
#[allow(unsafe_code, clippy::too_many_arguments)]
fn run_gemm(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    a_rs: isize,
    a_cs: isize,
    b: &[f32],
    b_rs: isize,
    b_cs: isize,
    c: &mut [f32],
    read_dst: bool,
) {
    // SAFETY: `matmul` checked that every slice holds the elements its (rows, cols, strides)
    // address: the largest offset touched is (rows-1)*rs + (cols-1)*cs < rows*cols for the
    // row-major strides built by `strides`. `c` is borrowed mutably, so it aliases neither
    // `a` nor `b`. dst := 1*dst + 1*a*b when read_dst, else dst := a*b.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            read_dst,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f32], ta: bool, b: &[f32], tb: bool) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    let av = if ta { a[p * m + i] } else { a[i * k + p] };
                    let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                    s += av as f64 * bv as f64;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_every_transpose_combination() {
        let (m, n, k) = (37, 29, 53);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104729) % 97) as f32 / 48.0 - 1.0)
            .collect();
        for ta in [false, true] {
            for tb in [false, true] {
                let opa = if ta {
                    Operand::transposed(&a)
                } else {
                    Operand::plain(&a)
                };
                let opb = if tb {
                    Operand::transposed(&b)
                } else {
                    Operand::plain(&b)
                };
                let mut c = vec![f32::NAN; m * n];
                matmul(m, n, k, opa, opb, &mut c, Accumulate::Overwrite);
                let want = naive(m, n, k, &a, ta, &b, tb);
                for (got, want) in c.iter().zip(&want) {
                    assert!(
                        (*got as f64 - want).abs() < 1e-4,
                        "ta={ta} tb={tb}: {got} vs {want}"
                    );
                }
                // Accumulate adds a second copy of the product.
                matmul(m, n, k, opa, opb, &mut c, Accumulate::Add);
                for (got, want) in c.iter().zip(&want) {
                    assert!((*got as f64 - 2.0 * want).abs() < 2e-4);
                }
            }
        }
    }

    #[test]
    fn large_product_uses_threads_and_stays_exact() {
        // Big enough to cross gemm's threading threshold.
        let (m, n, k) = (256, 300, 200);
        let a: Vec<f32> = (0..m * k).map(|i| ((i % 13) as f32) - 6.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i % 7) as f32) - 3.0).collect();
        let mut c = vec![0.0; m * n];
        matmul(
            m,
            n,
            k,
            Operand::plain(&a),
            Operand::plain(&b),
            &mut c,
            Accumulate::Overwrite,
        );
        let want = naive(m, n, k, &a, false, &b, false);
        // Small integers: the f32 sums are exact.
        for (got, want) in c.iter().zip(&want) {
            assert_eq!(*got as f64, *want);
        }
    }
}
