//! How many clusters to look for: one type for every method and for the organizer.

use serde::{Deserialize, Serialize};

/// A fixed number of clusters, or the best of a range by an internal criterion (never by
/// labels): N2D keeps the highest silhouette, the organizer's albums the lowest
/// Davies-Bouldin index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KSelect {
    Fixed(usize),
    Auto { min: usize, max: usize },
}

impl KSelect {
    /// Parses a command-line value: `auto` (any case) gives `auto`, a positive integer a fixed
    /// k. The range behind `auto` differs between uses, so the caller gives it.
    pub fn parse(text: &str, auto: KSelect) -> Result<KSelect, String> {
        if text.eq_ignore_ascii_case("auto") {
            return Ok(auto);
        }
        match text.parse::<usize>() {
            Ok(k) if k >= 1 => Ok(KSelect::Fixed(k)),
            _ => Err(format!(
                "--k must be a positive integer or \"auto\", got {text:?}"
            )),
        }
    }

    /// The smallest and largest k tried (both the same for a fixed k).
    pub fn bounds(self) -> (usize, usize) {
        match self {
            KSelect::Fixed(k) => (k, k),
            KSelect::Auto { min, max } => (min, max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTO: KSelect = KSelect::Auto { min: 2, max: 9 };

    #[test]
    fn parses_auto_and_positive_integers_only() {
        assert_eq!(KSelect::parse("auto", AUTO), Ok(AUTO));
        assert_eq!(KSelect::parse("AUTO", AUTO), Ok(AUTO));
        assert_eq!(KSelect::parse("7", AUTO), Ok(KSelect::Fixed(7)));
        for bad in ["0", "-3", "", "ten", "2.5", " 5"] {
            let err = KSelect::parse(bad, AUTO).unwrap_err();
            assert!(err.contains("positive integer"), "{bad}: {err}");
        }
    }

    #[test]
    fn serialises_as_the_two_enums_it_replaces() {
        // The organizer's cache and the runs' config.json stored KChoice / ClusterCount with
        // the same variant names and fields; old files must still read.
        let json = serde_json::to_string(&KSelect::Auto { min: 4, max: 16 }).unwrap();
        assert_eq!(json, r#"{"Auto":{"min":4,"max":16}}"#);
        let back: KSelect = serde_json::from_str(r#"{"Fixed":10}"#).unwrap();
        assert_eq!(back, KSelect::Fixed(10));
        assert_eq!(AUTO.bounds(), (2, 9));
    }
}
