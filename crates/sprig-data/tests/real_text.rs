//! The text loaders on the real TREC and MR files, against the facts in the data README.
//! They fail without the staged data unless `SPRIG_SKIP_REAL_DATA` is set
//! (`common/real_data.rs`).

mod common;

use common::real_data::with_real_data;

use sprig_data::text::{TextOptions, TrecLabels, UNK, load_mr, load_trec};

fn counts(labels: &[u16], classes: usize) -> Vec<usize> {
    let mut c = vec![0; classes];
    for &l in labels {
        c[usize::from(l)] += 1;
    }
    c
}

#[test]
fn real_trec_matches_the_readme() {
    with_real_data("trec", |dir| {
        let options = TextOptions::new(0, 24);
        let data = load_trec(&dir.join("trec"), TrecLabels::Coarse, &options).unwrap();
        assert_eq!(
            &*data.classes,
            ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
        );
        assert_eq!(
            (data.train.len(), data.validation.len(), data.test.len()),
            (4_907, 545, 500)
        );
        let train: Vec<usize> = counts(data.train.labels(), 6)
            .iter()
            .zip(counts(data.validation.labels(), 6))
            .map(|(a, b)| a + b)
            .collect();
        assert_eq!(train, [86, 1162, 1250, 1223, 835, 896]);
        assert_eq!(counts(data.test.labels(), 6), [9, 138, 94, 65, 81, 113]);
        assert_eq!(data.train.length(), 24);
        // The first test question, "How far is it from Denver to Aspen ?": 9 tokens, then
        // padding; its common words are in the vocabulary (rare names may be `<unk>`).
        let first = data.test.row(0).unwrap();
        let words: Vec<&str> = first
            .iter()
            .take_while(|&&id| id != 0)
            .map(|&id| data.vocab.token(id).unwrap())
            .collect();
        assert_eq!(words.len(), 9, "{words:?}");
        assert_eq!(words[..5].join(" "), "how far is it from");
        assert_eq!(words[8], "?");
        assert!(first[9..].iter().all(|&id| id == 0));

        // The same seed gives the same split and vocabulary; another seed another split.
        let again = load_trec(&dir.join("trec"), TrecLabels::Coarse, &options).unwrap();
        assert_eq!(again.vocab, data.vocab);
        assert_eq!(again.validation, data.validation);
        let other = load_trec(
            &dir.join("trec"),
            TrecLabels::Coarse,
            &TextOptions::new(1, 24),
        )
        .unwrap();
        assert_ne!(other.validation, data.validation);

        let fine = load_trec(&dir.join("trec"), TrecLabels::Fine, &options).unwrap();
        assert_eq!(fine.classes.len(), 50);
    });
}

#[test]
fn real_mr_has_a_fixed_test_split() {
    with_real_data("mr", |dir| {
        let a = load_mr(&dir.join("mr"), &TextOptions::new(0, 44)).unwrap();
        let b = load_mr(&dir.join("mr"), &TextOptions::new(5, 44)).unwrap();
        assert_eq!(&*a.classes, ["neg", "pos"]);
        assert_eq!(a.test.len(), 1_066);
        assert_eq!(a.train.len() + a.validation.len(), 10_662 - 1_066);
        assert_eq!(a.validation.len(), 960);
        // Seeds move the validation split, never the test split (same labels, same text;
        // ids can differ as each seed's vocabulary comes from its own training split).
        assert_eq!(a.test.labels(), b.test.labels());
        assert_ne!(a.validation.labels(), b.validation.labels());
        let [neg, pos] = counts(a.test.labels(), 2)[..] else {
            unreachable!()
        };
        assert!(neg.abs_diff(pos) < 100, "{neg} vs {pos}");
        // Unknown tokens exist in the test split (words never seen in training) but are rare.
        let ids: Vec<u32> = (0..a.test.len())
            .flat_map(|i| a.test.row(i).unwrap().to_vec())
            .collect();
        let unk = ids.iter().filter(|&&id| id == UNK).count();
        let words = ids.iter().filter(|&&id| id != 0).count();
        assert!(unk > 0 && unk * 10 < words, "{unk} unknown of {words}");
    });
}

#[test]
fn missing_text_files_are_named() {
    let dir = std::env::temp_dir().join("sprig-no-such-text-dir");
    let err = load_trec(&dir, TrecLabels::Coarse, &TextOptions::new(0, 8)).unwrap_err();
    assert!(err.to_string().contains("train_5500.label"), "{err}");
    let err = load_mr(&dir, &TextOptions::new(0, 8)).unwrap_err();
    assert!(err.to_string().contains("rt-polarity.neg"), "{err}");
}
