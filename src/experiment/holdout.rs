//! Any method on the tutorial's protocol: fit on the first part of a dataset, then place the
//! held-out rest with the fitted model (labels, where there are any, only score).

use crate::control::Control;
use crate::method::{Fitted, Method, MethodError, Predict};
use deepclust_data::{split_fraction, Dataset};

/// A fit on the first rows, and the clusters of the held-out rows.
#[derive(Debug, Clone)]
pub struct HoldoutFit<M, D> {
    pub fitted: Fitted<M, D>,
    /// The rows fitted on (all of them without a split).
    pub fit_set: Dataset,
    /// The held-out rows and the clusters the model placed them in.
    pub held_out: Option<(Dataset, Vec<usize>)>,
}

/// Fits `method` on the first `fraction` of `data` (all of it with `None`) and predicts the
/// clusters of the rest.
pub fn fit_holdout<T: Method>(
    method: &T,
    data: Dataset,
    fraction: Option<f64>,
    control: &Control,
) -> Result<HoldoutFit<T::Model, T::Details>, MethodError> {
    let (fit_set, rest) = match fraction {
        Some(f) => {
            let (a, b) = split_fraction(&data, f)?;
            (a, Some(b))
        }
        None => (data, None),
    };
    let fitted = method.fit(&fit_set, control)?;
    let held_out = match rest {
        Some(rest) => {
            let labels = fitted.model.predict(rest.features.view())?;
            Some((rest, labels))
        }
        None => None,
    };
    Ok(HoldoutFit {
        fitted,
        fit_set,
        held_out,
    })
}

impl<M, D> HoldoutFit<M, D> {
    /// `(id, cluster)` of every row, fitted rows first, as an assignments file lists them.
    pub fn assignments(&self) -> (Vec<String>, Vec<usize>) {
        let mut ids = self.fit_set.ids.clone();
        let mut labels = self.fitted.clustering.labels.clone();
        if let Some((rest, placed)) = &self.held_out {
            ids.extend(rest.ids.iter().cloned());
            labels.extend_from_slice(placed);
        }
        (ids, labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::KMeans;

    #[test]
    fn holdout_fits_the_first_rows_and_places_the_rest_with_the_model() {
        let ds = deepclust_data::synthetic::digits(200, 1);
        let method = KMeans::from(deepclust_cluster::KMeans::params(5).n_init(2).seed(3));
        let run = fit_holdout(&method, ds.clone(), Some(0.7), &Control::none()).expect("fit");
        assert_eq!(run.fit_set.len(), 140);
        let (rest, placed) = run.held_out.as_ref().expect("held out");
        assert_eq!(rest.len(), 60);
        assert_eq!(
            placed,
            &run.fitted
                .model
                .predict(rest.features.view())
                .expect("predict")
        );
        let (ids, labels) = run.assignments();
        assert_eq!(ids, ds.ids);
        assert_eq!(labels.len(), 200);
        // Without a split, the fit is the plain fit on every row.
        let all = fit_holdout(&method, ds.clone(), None, &Control::none()).expect("fit");
        let plain = method.fit(&ds, &Control::none()).expect("fit");
        assert_eq!(all.fitted.clustering.labels, plain.clustering.labels);
        assert!(all.held_out.is_none());
    }
}
