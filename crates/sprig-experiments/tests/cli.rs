//! The runner binary on bad input: clear errors naming what is missing, never a panic.

use std::process::Command;

fn runner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sprig-experiments"))
}

#[test]
fn missing_data_names_the_file_and_fails() {
    let scratch = tempfile::tempdir().unwrap();
    let temp = |name: &str| scratch.path().join(name);
    let results = temp("results");
    let output = runner()
        .args(["eval", "vision", "--mode", "quick", "--data-dir"])
        .arg(temp("no-data"))
        .arg("--runs")
        .arg(temp("runs"))
        .arg("--results")
        .arg(&results)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("no-data/mnist"),
        "names the folder: {stderr}"
    );
    assert!(stderr.contains("run(s) failed"), "{stderr}");
    // The (empty) table is still written, so a partial suite leaves a readable page.
    assert!(results.join("vision-quick.md").exists());
}

#[test]
fn unknown_names_list_the_known_ones() {
    let output = runner().args(["eval", "sound"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("vision"), "{stderr}");

    let scratch = tempfile::tempdir().unwrap();
    let temp = |name: &str| scratch.path().join(name);
    let output = runner()
        .args([
            "eval",
            "vision",
            "--mode",
            "quick",
            "--backend",
            "cuda-please",
        ])
        .arg("--runs")
        .arg(temp("runs2"))
        .arg("--results")
        .arg(temp("results2"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("flex"), "lists known backends: {stderr}");
}

#[test]
fn finished_only_runs_nothing_and_says_what_is_missing() {
    let scratch = tempfile::tempdir().unwrap();
    let temp = |name: &str| scratch.path().join(name);
    let results = temp("results-finished-only");
    let listed = runner()
        .args(["eval", "vision", "--mode", "quick", "--list", "--runs"])
        .arg(temp("runs-finished-only"))
        .output()
        .unwrap();
    let grid = String::from_utf8_lossy(&listed.stdout).lines().count();
    assert!(grid > 0);
    // No data folder: any attempt to run would fail on the missing MNIST files.
    let output = runner()
        .args(["eval", "vision", "--mode", "quick", "--finished-only"])
        .arg("--data-dir")
        .arg(temp("no-data-finished-only"))
        .arg("--runs")
        .arg(temp("runs-finished-only"))
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let page = std::fs::read_to_string(results.join("vision-quick.md")).unwrap();
    let expected = format!("Incomplete: {grid} experiment(s) of this grid have not run yet");
    assert!(page.contains(&expected), "{page}");
}
