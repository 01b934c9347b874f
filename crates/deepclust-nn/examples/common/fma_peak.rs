//! The machine's measured fp32 multiply-add peak, so a training or GEMM rate can be given as
//! a share of what these cores really do (their clock under an all-core load, not the
//! nominal one): every rayon thread runs independent FMA chains, long enough to cover the
//! latency, at the widest vector width the CPU reports (AVX-512, else AVX2 + FMA).

use std::time::Instant;

/// Multiply-adds per chain and thread: 10 chains x 2e8 on 2 FMA ports, about 0.3 s at 3.3 GHz.
const STEPS: u64 = 200_000_000;

/// GFLOP/s of all rayon threads together and the instruction set used, or `None` where the
/// CPU has neither AVX2 + FMA nor AVX-512 (a figure for a scalar loop would mean little).
pub fn measured_fma_peak() -> Option<(f64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        let (kernel, lanes, name): (fn(u64) -> f32, u64, &str) =
            if std::arch::is_x86_feature_detected!("avx512f") {
                (x86::chains_avx512, 16, "AVX-512")
            } else if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                (x86::chains_avx2, 8, "AVX2 + FMA")
            } else {
                return None;
            };
        let threads = rayon::current_num_threads();
        kernel(STEPS / 10); // warm-up: clocks up, pages in
        let start = Instant::now();
        let sink: f32 = rayon::broadcast(|_| kernel(STEPS)).into_iter().sum();
        let seconds = start.elapsed().as_secs_f64();
        std::hint::black_box(sink);
        let flops = 2.0 * (lanes * x86::CHAINS * STEPS) as f64 * threads as f64;
        Some((flops / seconds / 1e9, name))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// The line a benchmark prints about the peak it measured.
pub fn describe(peak: Option<(f64, &str)>) -> String {
    match peak {
        Some((gflops, isa)) => {
            format!("measured FMA peak: {gflops:.1} GFLOP/s ({isa}, all threads)")
        }
        None => "measured FMA peak: not measured (no AVX2 + FMA on this CPU)".to_string(),
    }
}

/// " (NN% of peak)" for a rate in GFLOP/s, or nothing without a measured peak.
pub fn share(gflops: f64, peak: Option<(f64, &str)>) -> String {
    peak.map_or(String::new(), |(p, _)| {
        format!(" ({:.0}% of peak)", 100.0 * gflops / p)
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Independent accumulators: more than FMA latency (4-5 cycles) x 2 ports.
    pub const CHAINS: u64 = 10;

    pub fn chains_avx2(steps: u64) -> f32 {
        // Safety: called only after is_x86_feature_detected!("avx2") and ("fma").
        #[allow(unsafe_code)]
        unsafe {
            avx2(steps)
        }
    }

    pub fn chains_avx512(steps: u64) -> f32 {
        // Safety: called only after is_x86_feature_detected!("avx512f").
        #[allow(unsafe_code)]
        unsafe {
            avx512(steps)
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2(steps: u64) -> f32 {
        let b = _mm256_set1_ps(0.999_999);
        let c = _mm256_set1_ps(1e-7);
        let mut acc = [_mm256_set1_ps(1.0); CHAINS as usize];
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, b, c);
            }
        }
        let mut out = [0.0f32; 8];
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, a| _mm256_add_ps(s, *a));
        // Safety: `out` holds 8 floats, as one unaligned 256-bit store needs.
        #[allow(unsafe_code)]
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), sum)
        };
        out.iter().sum()
    }

    #[target_feature(enable = "avx512f")]
    fn avx512(steps: u64) -> f32 {
        let b = _mm512_set1_ps(0.999_999);
        let c = _mm512_set1_ps(1e-7);
        let mut acc = [_mm512_set1_ps(1.0); CHAINS as usize];
        for _ in 0..steps {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, b, c);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, *a));
        _mm512_reduce_add_ps(sum)
    }
}
