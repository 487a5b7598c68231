//! A user's own Burn [`Dataset`] and [`Batcher`] as a split the classifier trainer draws
//! batches from: the data pipeline a Burn user already has, unchanged.

use std::marker::PhantomData;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::{Device, Int, Tensor};

use crate::PruneError;
use crate::classifier::LabelledData;

/// A Burn [`Dataset`] of items `I` with the [`Batcher`] that turns them into a batch `O`,
/// and `split`, which takes a batch apart into the model's input and the labels (for
/// Burn's MNIST example: `|b: MnistBatch| (b.images, b.targets)`).
///
/// The trainer asks for items by index, in its own seeded order; `Dataset::get` is called
/// once per item and batch.
///
/// ```rust,ignore
/// let train = DatasetBatches::new(train_dataset, MyBatcher, |b: MyBatch| (b.images, b.targets));
/// let validation = DatasetBatches::new(validation_dataset, MyBatcher, |b: MyBatch| (b.images, b.targets));
/// let trainee = ClassifierTrainee::new(model, &theta0, train, validation, &device, config)?;
/// ```
pub struct DatasetBatches<D, B, F, I, O> {
    dataset: D,
    batcher: B,
    split: F,
    items: PhantomData<fn(I) -> O>,
}

impl<D, B, F, I, O> DatasetBatches<D, B, F, I, O> {
    /// The split `dataset`, batched by `batcher`, each batch taken apart by `split`.
    pub fn new(dataset: D, batcher: B, split: F) -> Self {
        Self {
            dataset,
            batcher,
            split,
            items: PhantomData,
        }
    }

    /// The dataset.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }
}

impl<D, B, F, I, O> std::fmt::Debug for DatasetBatches<D, B, F, I, O>
where
    D: Dataset<I>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetBatches")
            .field("items", &self.dataset.len())
            .finish_non_exhaustive()
    }
}

impl<D, B, F, I, O, X> LabelledData for DatasetBatches<D, B, F, I, O>
where
    D: Dataset<I>,
    B: Batcher<I, O>,
    F: Fn(O) -> (X, Tensor<1, Int>),
    X: Clone,
{
    type Input = X;

    fn len(&self) -> usize {
        self.dataset.len()
    }

    fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(X, Tensor<1, Int>), PruneError> {
        let len = self.dataset.len();
        let mut items = Vec::with_capacity(indices.len());
        for &index in indices {
            // `Dataset::get` panics past the end: ask only for what is there.
            if index >= len {
                return Err(PruneError::Dataset {
                    index,
                    message: format!("the dataset has {len} items"),
                });
            }
            let item = self.dataset.get(index).map_err(|e| PruneError::Dataset {
                index,
                message: e.to_string(),
            })?;
            items.push(item);
        }
        let (inputs, labels) = (self.split)(self.batcher.batch(items, device));
        let [count] = labels.dims();
        if count != indices.len() {
            return Err(PruneError::Dataset {
                index: indices.first().copied().unwrap_or_default(),
                message: format!(
                    "the batcher gave {count} labels for a batch of {} items",
                    indices.len()
                ),
            });
        }
        Ok((inputs, labels))
    }
}
