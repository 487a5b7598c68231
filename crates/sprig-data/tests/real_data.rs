//! Checks on the real data sets, against the facts in the data README. They fail without
//! the staged data unless `SPRIG_SKIP_REAL_DATA` is set (`common/real_data.rs`).

mod common;

use common::real_data::with_real_data;

use std::time::Instant;

use burn_dataset::Dataset;
use sprig_data::{
    DataSource, LTH_VALIDATION_SIZE, LoadOptions, Normalization, load_cifar10, load_mnist,
    split_validation,
};

fn add(a: Vec<usize>, b: Vec<usize>) -> Vec<usize> {
    a.iter().zip(&b).map(|(x, y)| x + y).collect()
}

#[test]
fn real_mnist_matches_the_readme() {
    with_real_data("mnist", |dir| {
        let t = Instant::now();
        let data = load_mnist(&dir, &LoadOptions::lth(0)).unwrap();
        println!(
            "MNIST load: {:.3} s ({})",
            t.elapsed().as_secs_f64(),
            data.source
        );
        assert!(matches!(
            data.source,
            DataSource::MnistIdx {
                sha256_verified: true,
                ..
            }
        ));
        assert_eq!(
            (data.train.len(), data.validation.len(), data.test.len()),
            (55_000, 5_000, 10_000)
        );
        assert_eq!(data.train.shape().to_string(), "1×28×28");
        assert_eq!(
            add(data.train.class_counts(), data.validation.class_counts()),
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        assert_eq!(
            data.test.class_counts(),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
        );
        let px = data.test.pixels();
        assert_eq!((px.iter().min(), px.iter().max()), (Some(&0), Some(&255)));
        // The well-known MNIST constants (0.1307, 0.3081) hold for the training split too.
        let norm = data.fit_normalization().unwrap();
        assert!((norm.mean()[0] - 0.1307).abs() < 0.002, "{norm:?}");
        assert!((norm.std()[0] - 0.3081).abs() < 0.002, "{norm:?}");
        let item = data.test.get(0).unwrap();
        assert_eq!((item.pixels.len(), item.label), (784, 7));
    });
}

#[test]
fn real_cifar10_jpeg_copy_matches_the_readme() {
    with_real_data("cifar10", |dir| {
        let t = Instant::now();
        // No hold-out here, so the training set stays in record order.
        let all = LoadOptions {
            validation: 0,
            ..LoadOptions::lth(0)
        };
        let data = load_cifar10(&dir, &all).unwrap();
        println!(
            "CIFAR-10 load (sha256, 60,000 JPEGs checked and decoded): {:.3} s ({})",
            t.elapsed().as_secs_f64(),
            data.source
        );
        // Only the lossy JPEG copy is staged in shared/data, and it must say so.
        assert_eq!(
            data.source,
            DataSource::Cifar10Jpeg {
                dir: dir.join("cifar10")
            }
        );
        assert!(!data.source.is_lossless());
        assert_eq!((data.train.len(), data.test.len()), (50_000, 10_000));
        assert_eq!(data.train.shape().to_string(), "3×32×32");
        assert_eq!(data.train.class_counts(), [5_000; 10]);
        assert_eq!(data.test.class_counts(), [1_000; 10]);
        assert_eq!(data.classes[6], "frog");
        // Record order is the official one: data_batch_1's label histogram.
        let batch1 = data.train.subset(&(0..10_000).collect::<Vec<_>>()).unwrap();
        assert_eq!(
            batch1.class_counts(),
            [1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]
        );
        // The test set is interleaved round-robin by class.
        assert!(
            data.test
                .labels()
                .iter()
                .enumerate()
                .all(|(i, &l)| usize::from(l) == i % 10)
        );

        let (train, validation) = split_validation(&data.train, LTH_VALIDATION_SIZE, 0).unwrap();
        assert_eq!((train.len(), validation.len()), (45_000, 5_000));
        // Close to the usual CIFAR-10 constants; JPEG smoothing moves them a little.
        let norm = Normalization::fit(&train).unwrap();
        for (c, (m, s)) in [(0.4914, 0.2470), (0.4822, 0.2435), (0.4465, 0.2616)]
            .into_iter()
            .enumerate()
        {
            assert!((norm.mean()[c] - m).abs() < 0.01, "{norm:?}");
            assert!((norm.std()[c] - s).abs() < 0.02, "{norm:?}");
        }
    });
}
