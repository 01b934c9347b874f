//! Whole experiments as library calls: presets and protocols in, result rows out (no argv,
//! no printing).

pub mod demo;
pub mod holdout;
pub mod mnist;
