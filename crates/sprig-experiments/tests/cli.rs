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

#[test]
fn the_grid_names_each_controls_ticket_and_runs_one_experiment_by_index() {
    let scratch = tempfile::tempdir().unwrap();
    let temp = |name: &str| scratch.path().join(name);
    let listed = runner()
        .args(["eval", "vision", "--mode", "quick", "--list", "--runs"])
        .arg(temp("runs"))
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    let rows: Vec<Vec<&str>> = listing.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|row| row.len() == 4), "{listing}");
    // A random control names the budgeted ticket it reuses, which the grid lists before it;
    // every other experiment needs none.
    let control = rows
        .iter()
        .position(|row| row[1].starts_with("random_prune"))
        .unwrap_or_else(|| panic!("the quick grid has a random control: {listing}"));
    let source = rows
        .iter()
        .position(|row| row[2] == rows[control][3])
        .unwrap_or_else(|| panic!("the control's ticket is a row of the grid: {listing}"));
    assert!(source < control, "{listing}");
    assert!(rows[source][1].starts_with("budgeted"), "{listing}");
    for row in rows.iter().filter(|row| !row[1].starts_with("random")) {
        assert_eq!(row[3], "-", "{listing}");
    }

    // Past the grid: refused, naming its size.
    let output = runner()
        .args([
            "eval", "vision", "--mode", "quick", "--index", "999", "--runs",
        ])
        .arg(temp("runs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let expected = format!("the grid has {} experiments", rows.len());
    assert!(stderr.contains(&expected), "{stderr}");

    // In the grid: that experiment only (without data it fails, naming the data), and no
    // table: the merge job writes it.
    let output = runner()
        .args([
            "eval",
            "vision",
            "--mode",
            "quick",
            "--index",
            "0",
            "--data-dir",
        ])
        .arg(temp("no-data"))
        .arg("--runs")
        .arg(temp("runs"))
        .arg("--results")
        .arg(temp("results"))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("no-data/mnist"), "{stderr}");
    assert!(
        stderr.contains(rows[0][2]),
        "names the run folder: {stderr}"
    );
    assert!(!temp("results").exists(), "{stderr}");
}
