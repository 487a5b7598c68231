//! A ready [`Trainee`](crate::engine::Trainee) for classification: a
//! [`Classifier`](sprig_models::Classifier) model, labelled data, Adam and a learning-rate
//! schedule, trained under masks.

mod burn_data;
mod data;
mod schedule;
mod teacher;
mod trainee;

pub use burn_data::DatasetBatches;
pub use data::{
    Batches, FeatureBatches, ImageBatches, LabelledData, NormalizedSplit, TokenBatches,
};
pub use schedule::LrSchedule;
pub use trainee::{ClassifierTrainee, TrainConfig};
