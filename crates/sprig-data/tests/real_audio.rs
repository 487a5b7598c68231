//! The audio loader on the real Free Spoken Digit Dataset, against the facts in the data
//! README. Fails without the staged data unless `SPRIG_SKIP_REAL_DATA` is set
//! (`common/real_data.rs`).

mod common;

use common::real_data::with_real_data;

use sprig_data::audio::{AudioOptions, FeatureConfig, FsddSplit, load_fsdd};

#[test]
fn real_fsdd_splits_and_caches() {
    with_real_data("fsdd", |dir| {
        let cache = std::env::temp_dir().join(format!("sprig-fsdd-cache-{}", std::process::id()));
        let options = AudioOptions {
            cache_dir: Some(cache.clone()),
            ..AudioOptions::new(0, FeatureConfig::spoken_digits())
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

#[test]
fn the_runtime_computes_training_s_spectrograms_from_the_recordings() {
    // A device's keyword spotter makes its input with `sprig_runtime::LogMel` (no_std,
    // its own FFT) from the samples it records; training made it with `LogMel` here
    // (realfft). On real recordings the two agree to float rounding: about 1e-4 in the log
    // at worst over every 50th FSDD recording, well inside the bound below.
    with_real_data("fsdd", |dir| {
        let config = FeatureConfig::spoken_digits();
        let training = sprig_data::audio::LogMel::new(config.clone()).unwrap();
        let device = sprig_runtime::LogMel::new(sprig_runtime::LogMelConfig {
            sample_rate: config.sample_rate,
            duration_ms: config.duration_ms,
            window: config.window,
            hop: config.hop,
            mels: config.mels,
            fmin: config.fmin,
            fmax: config.fmax,
        })
        .unwrap();
        let recordings = dir.join("fsdd").join("recordings");
        let mut names: Vec<_> = std::fs::read_dir(&recordings)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        let (mut worst, mut values) = (0.0f32, 0usize);
        for name in names.iter().step_by(50) {
            let clip = sprig_data::audio::read_wav(&recordings.join(name)).unwrap();
            assert_eq!(clip.sample_rate, config.sample_rate, "{name:?}");
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            device.extend(&clip.samples, &mut ours);
            training.extend(&clip.samples, &mut theirs);
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                worst = worst.max((a - b).abs());
            }
            values += ours.len();
        }
        println!(
            "{values} log-mel values of {} recordings: largest difference {worst}",
            names.len().div_ceil(50)
        );
        assert!(values > 50 * 61 * 40, "{values} values");
        assert!(worst < 1e-3, "log-mel values differ by {worst}");
    });
}
