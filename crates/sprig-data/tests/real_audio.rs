//! The audio loader on the real Free Spoken Digit Dataset, against the facts in the data
//! README. Fails without the staged data unless `SPRIG_SKIP_REAL_DATA` is set
//! (`common/real_data.rs`).

mod common;

use common::real_data::with_real_data;

use sprig_data::audio::{AudioOptions, FsddSplit, load_fsdd, spoken_digits};

#[test]
fn real_fsdd_splits_and_caches() {
    with_real_data("fsdd", |dir| {
        let cache = std::env::temp_dir().join(format!("sprig-fsdd-cache-{}", std::process::id()));
        let options = AudioOptions {
            cache_dir: Some(cache.clone()),
            ..AudioOptions::new(0, spoken_digits())
        };
        let official = load_fsdd(&dir.join("fsdd"), &FsddSplit::Official, &options).unwrap();
        assert!(!official.from_cache);
        assert_eq!(official.test.len(), 300);
        assert_eq!(official.train.len() + official.validation.len(), 2_700);
        assert_eq!(official.validation.len(), 270);
        assert_eq!(official.train.shape(), [1, 61, 40]);
        assert_eq!(official.train.classes().len(), 10);
        assert_eq!(official.train.speakers().len(), 6);
        let mut per_digit = [0usize; 10];
        for set in [&official.train, &official.validation, &official.test] {
            for &l in set.labels() {
                per_digit[usize::from(l)] += 1;
            }
        }
        assert_eq!(per_digit, [300; 10]);
        assert!(official.skipped.is_empty());
        println!(
            "FSDD features: {:.2} s for 3,000 clips",
            official.feature_seconds
        );

        // The second load reads the cache, and gives the same spectrograms.
        let again = load_fsdd(&dir.join("fsdd"), &FsddSplit::Official, &options).unwrap();
        assert!(again.from_cache);
        assert_eq!(again.test, official.test);

        // Holding a speaker out puts all 500 of his recordings in the test split, and none
        // in training; the cache (per file, not per split) is reused.
        let held = load_fsdd(
            &dir.join("fsdd"),
            &FsddSplit::Speaker("theo".into()),
            &options,
        )
        .unwrap();
        assert!(held.from_cache);
        assert_eq!(held.test.len(), 500);
        let theo = held
            .test
            .speakers()
            .iter()
            .position(|s| s == "theo")
            .unwrap() as u16;
        assert!(held.test.speaker_of().iter().all(|&s| s == theo));
        assert!(held.train.speaker_of().iter().all(|&s| s != theo));
        let err = load_fsdd(
            &dir.join("fsdd"),
            &FsddSplit::Speaker("nobody".into()),
            &options,
        )
        .unwrap_err();
        assert!(err.to_string().contains("george"), "{err}");
        let _ = std::fs::remove_dir_all(cache);
    });
}
