//! Log lines on stderr: coloured only for a person watching a terminal.

use std::ffi::OsStr;
use std::io::IsTerminal;

/// Whether log lines may carry ANSI colour codes: only when stderr is a terminal and
/// `NO_COLOR` is unset or empty (<https://no-color.org>), so logs written to a file or a
/// pipe stay plain text.
pub fn colour_logs() -> bool {
    colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

fn colour(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let cases: [(bool, Option<&str>, bool); 5] = [
            (true, None, true),
            (true, Some(""), true),
            (true, Some("1"), false),
            (false, None, false),
            (false, Some("1"), false),
        ];
        for (terminal, no_color, expected) in cases {
            assert_eq!(
                colour(terminal, no_color.map(OsStr::new)),
                expected,
                "{terminal} {no_color:?}"
            );
        }
    }
}
