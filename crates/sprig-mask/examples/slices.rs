//! Lottery-ticket pruning of a model that lives in plain `Vec<f32>`s — no Burn, no
//! tensors, no framework: only the mask core on slices.
//!
//! A softmax regression on real MNIST (a 784 × 10 weight matrix and 10 biases), trained
//! by minibatch SGD in an ordinary loop, is pruned by iterative magnitude pruning: train,
//! remove half of the surviving weights by magnitude, rewind the survivors to their
//! initial values θ0, and train again — five rounds, down to 93.75 % sparsity. Each step
//! masks the gradient before the update and re-applies the mask after it, as Sprig's Burn
//! engine does. Biases are not pruned (they have no mask).
//!
//! `cargo run -p sprig-mask --example slices -- [DATA_DIR]` (DATA_DIR holds `mnist/`;
//! default `$SPRIG_DATA`, then `../shared/data`).

use std::error::Error;
use std::path::PathBuf;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sprig_data::{ImageSet, LoadOptions, load_mnist};
use sprig_mask::{LayerRates, Mask, MaskSet, Scope, Scores, Snapshot, prune_to_sparsity};

const PIXELS: usize = 784;
const CLASSES: usize = 10;
const BATCH: usize = 100;
const EPOCHS: usize = 2;
const LEARNING_RATE: f32 = 0.1;

/// Pixels scaled to [0, 1], one image after another, and the labels.
fn examples(set: &ImageSet) -> (Vec<f32>, Vec<usize>) {
    let pixels = (0..set.len())
        .flat_map(|i| set.image(i).unwrap_or_default().iter())
        .map(|&p| f32::from(p) / 255.0)
        .collect();
    let labels = (0..set.len()).map(|i| set.label(i).unwrap_or(0)).collect();
    (pixels, labels)
}

/// Softmax of `x · w + b` for one image (`w` is `[PIXELS, CLASSES]`, row-major).
fn probabilities(w: &[f32], b: &[f32], x: &[f32]) -> [f32; CLASSES] {
    let mut logits = [0.0_f32; CLASSES];
    logits.copy_from_slice(b);
    for (pixel, row) in x.iter().zip(w.chunks_exact(CLASSES)) {
        if *pixel != 0.0 {
            for (logit, weight) in logits.iter_mut().zip(row) {
                *logit += pixel * weight;
            }
        }
    }
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for logit in &mut logits {
        *logit = (*logit - max).exp();
        sum += *logit;
    }
    logits.map(|e| e / sum)
}

/// `EPOCHS` of minibatch SGD on cross-entropy; the mask keeps pruned weights at zero.
fn train(
    weights: &mut Snapshot,
    mask: &Mask,
    x: &[f32],
    y: &[usize],
) -> Result<(), Box<dyn Error>> {
    let mut grad_w = vec![0.0_f32; PIXELS * CLASSES];
    let mut grad_b = [0.0_f32; CLASSES];
    for _ in 0..EPOCHS {
        for batch in (0..y.len()).collect::<Vec<_>>().chunks(BATCH) {
            grad_w.fill(0.0);
            grad_b.fill(0.0);
            let w = weights.get("w").ok_or("no w")?.values();
            let b = weights.get("b").ok_or("no b")?.values();
            for &i in batch {
                let image = &x[i * PIXELS..(i + 1) * PIXELS];
                let mut delta = probabilities(w, b, image);
                delta[y[i]] -= 1.0;
                for (pixel, row) in image.iter().zip(grad_w.chunks_exact_mut(CLASSES)) {
                    if *pixel != 0.0 {
                        for (g, d) in row.iter_mut().zip(&delta) {
                            *g += pixel * d;
                        }
                    }
                }
                for (g, d) in grad_b.iter_mut().zip(&delta) {
                    *g += d;
                }
            }
            // A pruned weight gets no gradient (and the mask is re-applied after the
            // step, so nothing revives it).
            mask.apply(&mut grad_w)?;
            let scale = LEARNING_RATE / batch.len() as f32;
            let w = weights.get_mut("w").ok_or("no w")?.values_mut();
            for (v, g) in w.iter_mut().zip(&grad_w) {
                *v -= scale * g;
            }
            mask.apply(w)?;
            let b = weights.get_mut("b").ok_or("no b")?.values_mut();
            for (v, g) in b.iter_mut().zip(&grad_b) {
                *v -= scale * g;
            }
        }
    }
    Ok(())
}

/// Fraction of `y` predicted right.
fn accuracy(weights: &Snapshot, x: &[f32], y: &[usize]) -> Result<f64, Box<dyn Error>> {
    let w = weights.get("w").ok_or("no w")?.values();
    let b = weights.get("b").ok_or("no b")?.values();
    let right = y
        .iter()
        .enumerate()
        .filter(|&(i, &label)| {
            let p = probabilities(w, b, &x[i * PIXELS..(i + 1) * PIXELS]);
            let best = (0..CLASSES).max_by(|&a, &c| p[a].total_cmp(&p[c]));
            best == Some(label)
        })
        .count();
    Ok(right as f64 / y.len() as f64)
}

fn main() -> Result<(), Box<dyn Error>> {
    let data_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SPRIG_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let mnist = load_mnist(&data_dir, &LoadOptions::lth(0))?;
    let (train_x, train_y) = examples(&mnist.train);
    let (test_x, test_y) = examples(&mnist.test);

    // θ0: small seeded values, zero biases.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let init = (0..PIXELS * CLASSES)
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.02)
        .collect();
    let mut theta0 = Snapshot::new();
    theta0.insert("w", vec![PIXELS, CLASSES], init)?;
    theta0.insert("b", vec![CLASSES], vec![0.0; CLASSES])?;
    let mut masks = MaskSet::dense([("w", "linear", &[PIXELS, CLASSES][..])])?;
    // The masks fit the parameters they name (names, shapes): checked once, up front.
    masks.validate(&theta0.params())?;

    let mut trained: Option<Snapshot> = None;
    for round in 0..5 {
        if let Some(trained) = &trained {
            // Half of the survivors go: the smallest trained magnitudes.
            let target = 1.0 - 0.5_f64.powi(round);
            prune_to_sparsity(
                &mut masks,
                &Scores::magnitude(trained),
                Scope::Global,
                &LayerRates::uniform(),
                target,
            )?;
        }
        // Rewind: the survivors take their θ0 values again, the pruned ones are zero.
        let mut weights = theta0.masked(&masks)?;
        let mask = masks.get("w").ok_or("no mask for w")?;
        train(&mut weights, mask, &train_x, &train_y)?;
        println!(
            "round {round}: sparsity {:.4} ({} of {} weights kept), test accuracy {:.2}%",
            masks.sparsity(),
            mask.kept_count(),
            mask.len(),
            100.0 * accuracy(&weights, &test_x, &test_y)?
        );
        trained = Some(weights);
    }
    Ok(())
}
