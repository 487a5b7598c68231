//! Encoded text examples in memory: fixed-length rows of token ids and their labels.

use std::sync::Arc;

use burn_dataset::{Dataset, DatasetError};

use crate::DataError;

/// One encoded example, as Burn's [`Dataset`] hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextItem {
    /// Token ids, padded or truncated to the set's length.
    pub ids: Vec<u32>,
    /// Class index, `< classes.len()` of the set it came from.
    pub label: usize,
}

/// Encoded examples of one split, all of the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct TextSet {
    length: usize,
    ids: Vec<u32>,
    labels: Vec<u16>,
    classes: Arc<[String]>,
}

impl TextSet {
    /// A set of `labels.len()` rows of `length` ids each.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the sizes disagree or a label is not a class.
    pub fn new(
        length: usize,
        ids: Vec<u32>,
        labels: Vec<u16>,
        classes: Arc<[String]>,
    ) -> Result<Self, DataError> {
        if length == 0 || Some(ids.len()) != labels.len().checked_mul(length) {
            return Err(DataError::InvalidArgument(format!(
                "{} ids do not make {} rows of {length}",
                ids.len(),
                labels.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| usize::from(l) >= classes.len()) {
            return Err(DataError::InvalidArgument(format!(
                "label {bad} is not one of {} classes",
                classes.len()
            )));
        }
        Ok(Self {
            length,
            ids,
            labels,
            classes,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Ids per example.
    pub fn length(&self) -> usize {
        self.length
    }

    /// Class names, by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Every label, in order.
    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    /// The ids of example `index`.
    pub fn row(&self, index: usize) -> Option<&[u32]> {
        (index < self.len()).then(|| &self.ids[index * self.length..(index + 1) * self.length])
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an index past the end.
    pub fn subset(&self, indices: &[usize]) -> Result<Self, DataError> {
        self.check_indices(indices)?;
        let mut ids = Vec::with_capacity(indices.len() * self.length);
        for &i in indices {
            ids.extend_from_slice(&self.ids[i * self.length..(i + 1) * self.length]);
        }
        Ok(Self {
            length: self.length,
            ids,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes.clone(),
        })
    }

    /// Writes the ids of `indices` (`indices.len() × length`, row-major) and their labels
    /// into reused buffers, replacing their contents: the trainer's batch path.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an index past the end (the buffers are then
    /// left empty).
    pub fn fill_batch(
        &self,
        indices: &[usize],
        ids: &mut Vec<i64>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        ids.clear();
        labels.clear();
        self.check_indices(indices)?;
        for &i in indices {
            ids.extend(
                self.ids[i * self.length..(i + 1) * self.length]
                    .iter()
                    .map(|&id| i64::from(id)),
            );
            labels.push(i64::from(self.labels[i]));
        }
        Ok(())
    }

    fn check_indices(&self, indices: &[usize]) -> Result<(), DataError> {
        DataError::check_indices(indices, self.len(), "examples")
    }
}

/// Burn's random-access dataset view.
impl Dataset<TextItem> for TextSet {
    /// # Panics
    /// If `index >= len()`, as the `Dataset` contract (and slice indexing) requires.
    fn get(&self, index: usize) -> Result<TextItem, DatasetError> {
        match self.row(index) {
            Some(ids) => Ok(TextItem {
                ids: ids.to_vec(),
                label: usize::from(self.labels[index]),
            }),
            None => panic!("Index out of bounds for dataset: {index} >= {}", self.len()),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> TextSet {
        let classes: Arc<[String]> = ["neg".to_string(), "pos".to_string()].into();
        TextSet::new(2, vec![5, 6, 7, 0, 9, 9], vec![1, 0, 1], classes).unwrap()
    }

    #[test]
    fn rows_subsets_batches_and_items() {
        let s = set();
        assert_eq!((s.len(), s.length()), (3, 2));
        assert_eq!(s.row(1), Some(&[7, 0][..]));
        assert_eq!(s.row(3), None);
        let sub = s.subset(&[2, 0]).unwrap();
        assert_eq!((sub.row(0), sub.labels()), (Some(&[9, 9][..]), &[1, 1][..]));
        let (mut ids, mut labels) = (Vec::new(), Vec::new());
        s.fill_batch(&[1, 2], &mut ids, &mut labels).unwrap();
        assert_eq!((ids, labels.clone()), (vec![7, 0, 9, 9], vec![0, 1]));
        let mut ids = vec![1];
        assert!(s.fill_batch(&[3], &mut ids, &mut labels).is_err());
        assert!(ids.is_empty() && labels.is_empty());
        assert_eq!(
            Dataset::get(&s, 0).unwrap(),
            TextItem {
                ids: vec![5, 6],
                label: 1
            }
        );
    }

    #[test]
    fn inconsistent_sets_are_errors() {
        let classes: Arc<[String]> = ["a".to_string()].into();
        assert!(TextSet::new(2, vec![1, 2, 3], vec![0], classes.clone()).is_err());
        assert!(TextSet::new(1, vec![1], vec![1], classes.clone()).is_err());
        assert!(TextSet::new(0, vec![], vec![], classes).is_err());
    }
}
