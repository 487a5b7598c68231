//! A table's grid as `sprig-experiments eval --list` prints it, and which of its
//! experiments a submission still has to run, in which wave.

use anyhow::{Result, bail};

/// One experiment of the grid: a line of `--list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Its index in the grid: the array task that runs it.
    pub index: usize,
    /// Method and variant.
    pub label: String,
    /// Its run folder under the runs root (named by its configuration).
    pub run_dir: String,
    /// The run folder of the budgeted ticket it reuses (random controls only).
    pub ticket: Option<String>,
}

/// Reads `--list`'s lines: index, label, run folder and the ticket's run folder or `-`,
/// separated by tabs.
pub fn parse(listing: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (n, line) in listing.lines().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [index, label, run_dir, ticket] = fields[..] else {
            bail!(
                "line {} of the grid is not `index, label, run folder, ticket` separated by \
                 tabs: {line:?} (is the experiment runner older than this xtask? \
                 `cargo xtask build` rebuilds it)",
                n + 1
            );
        };
        let Ok(index) = index.parse() else {
            bail!("line {} of the grid has no index: {line:?}", n + 1);
        };
        if index != rows.len() {
            bail!("line {} of the grid has index {index}", n + 1);
        }
        rows.push(Row {
            index,
            label: label.into(),
            run_dir: run_dir.into(),
            ticket: (ticket != "-").then(|| ticket.into()),
        });
    }
    Ok(rows)
}

/// The experiments a submission runs, as grid indices.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ToDo {
    /// Those that need nothing else of the grid: one job array.
    pub first: Vec<usize>,
    /// Random controls whose budgeted ticket is in `first`: a second job array that
    /// starts once the first has ended (a control reads its ticket when it starts).
    pub after_tickets: Vec<usize>,
}

impl ToDo {
    /// Nothing left to run.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty() && self.after_tickets.is_empty()
    }

    /// Every index to run, in grid order.
    pub fn all(&self) -> Vec<usize> {
        let mut all = [&self.first[..], &self.after_tickets[..]].concat();
        all.sort_unstable();
        all
    }
}

/// The rows whose run folder holds no result yet (`finished` says which do), split into
/// the waves of [`ToDo`]. A control whose ticket is neither finished nor in the grid is in
/// the first wave: it fails there, naming the missing ticket, as it would in a local run.
pub fn to_do(rows: &[Row], finished: impl Fn(&str) -> bool) -> ToDo {
    let pending: Vec<&Row> = rows.iter().filter(|r| !finished(&r.run_dir)).collect();
    let mut plan = ToDo::default();
    for row in &pending {
        let waits = row
            .ticket
            .as_deref()
            .is_some_and(|ticket| pending.iter().any(|r| r.run_dir == ticket));
        if waits {
            plan.after_tickets.push(row.index);
        } else {
            plan.first.push(row.index);
        }
    }
    plan
}

/// Slurm's `--array` value: the indices as ranges (`0-3,5,7-9`), and `%K` when at most
/// `parallel` tasks may run at once.
pub fn array_spec(indices: &[usize], parallel: Option<u32>) -> String {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for &i in indices {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == i => *end = i,
            _ => ranges.push((i, i)),
        }
    }
    let mut spec = ranges
        .iter()
        .map(|&(start, end)| {
            if start == end {
                start.to_string()
            } else {
                format!("{start}-{end}")
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    if let Some(k) = parallel {
        spec.push_str(&format!("%{k}"));
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick vision grid's shape: dense, budgeted, one-shot, random control, IMP.
    const LISTING: &str = "0\tdense\tmnist-lenet/dense-aaaa\t-\n\
                           1\tbudgeted (policy)\tmnist-lenet/budgeted-bbbb\t-\n\
                           2\tone_shot\tmnist-lenet/one_shot-cccc\t-\n\
                           3\trandom_prune\tmnist-lenet/random_prune-dddd\tmnist-lenet/budgeted-bbbb\n\
                           4\timp\tmnist-lenet/imp-eeee\t-\n";

    fn check(finished: &[&str], expect_first: &[usize], expect_after: &[usize]) {
        let rows = parse(LISTING).unwrap();
        let plan = to_do(&rows, |dir| {
            finished.iter().any(|f| dir.ends_with(&format!("-{f}")))
        });
        assert_eq!(
            plan,
            ToDo {
                first: expect_first.to_vec(),
                after_tickets: expect_after.to_vec()
            },
            "finished: {finished:?}"
        );
    }

    #[test]
    fn what_is_left_to_run_and_in_which_wave() {
        // Nothing run yet: the control waits for its ticket.
        check(&[], &[0, 1, 2, 4], &[3]);
        // Its ticket finished: the control runs in the first wave.
        check(&["bbbb"], &[0, 2, 3, 4], &[]);
        // Only the control failed: only it is submitted again.
        check(&["aaaa", "bbbb", "cccc", "eeee"], &[3], &[]);
        // The ticket failed, and so did its control (no ticket to read): both again, the
        // control after its ticket.
        check(&["aaaa", "cccc", "eeee"], &[1], &[3]);
        check(&["aaaa", "bbbb", "cccc", "dddd", "eeee"], &[], &[]);
    }

    #[test]
    fn a_control_whose_ticket_is_not_in_the_grid_runs_first() {
        // `--only random` leaves the budgeted run out: the control fails in the first
        // wave, naming the missing ticket, as a local run would.
        let rows = parse("0\trandom_prune\tx/random_prune-d\tx/budgeted-b\n").unwrap();
        assert_eq!(to_do(&rows, |_| false).first, [0]);
    }

    #[test]
    fn the_listing_is_read_strictly() {
        let rows = parse(LISTING).unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            rows[3],
            Row {
                index: 3,
                label: "random_prune".into(),
                run_dir: "mnist-lenet/random_prune-dddd".into(),
                ticket: Some("mnist-lenet/budgeted-bbbb".into()),
            }
        );
        assert_eq!(parse("").unwrap(), []);
        for (bad, says) in [
            ("0\tdense\tdir\n", "older than this xtask"),
            ("x\tdense\tdir\t-\n", "has no index"),
            ("1\tdense\tdir\t-\n", "has index 1"),
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_array_value() {
        for (indices, parallel, expect) in [
            (&[0, 1, 2, 3][..], Some(2), "0-3%2"),
            (&[3], None, "3"),
            (&[0, 2, 3, 4, 7, 9, 10], Some(4), "0,2-4,7,9-10%4"),
            (&[5, 6], Some(1), "5-6%1"),
        ] {
            assert_eq!(array_spec(indices, parallel), expect, "{indices:?}");
        }
    }
}
