//! The values of `sprig prune`'s options that no library type names: each parsed once,
//! from a flag (clap) or a config file (serde), by the same `FromStr`, and written back by
//! `Display` in a form that parses to the same value.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use sprig_run::Method;

/// A wall-clock budget: `90s`, `5m`, `1h30m`, `1h 30m` (humantime's grammar), at least
/// one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget(pub Duration);

impl FromStr for Budget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let budget = humantime::parse_duration(text.trim()).map_err(|e| {
            format!("budget `{text}` is not a duration ({e}): write e.g. 90s, 5m or 1h30m")
        })?;
        if budget < Duration::from_secs(1) {
            return Err(format!(
                "budget `{text}` is under a second: no training fits; give at least a few seconds"
            ));
        }
        Ok(Budget(budget))
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// A size in bytes: `64KiB`, `1.5MB`, `30000`; K/KiB and M/MiB are powers of 1024, KB and
/// MB of 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let split = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let factor = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kib" => 1024.0,
            "kb" => 1000.0,
            "m" | "mib" => 1024.0 * 1024.0,
            "mb" => 1e6,
            _ => {
                return Err(format!(
                    "size `{text}` has an unknown unit: write e.g. 64KiB, 1.5MB or 30000 (bytes)"
                ));
            }
        };
        number
            .parse::<f64>()
            .ok()
            .map(|n| n * factor)
            .filter(|b| b.is_finite() && *b >= 1.0)
            .map(|b| ByteSize(b as usize))
            .ok_or_else(|| {
                format!("size `{text}` is not a size: write e.g. 64KiB, 1.5MB or 30000 (bytes)")
            })
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: usize = 1024;
        match self.0 {
            b if b % (KIB * KIB) == 0 => write!(f, "{}MiB", b / (KIB * KIB)),
            b if b % KIB == 0 => write!(f, "{}KiB", b / KIB),
            b => write!(f, "{b}"),
        }
    }
}

/// The method a user asks for: `auto` (the one the evaluation tables say wins in the
/// run's regime, `sprig_run::advice`) or one by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MethodChoice {
    #[default]
    Auto,
    Named(Method),
}

/// The methods a user can name, by their command-line names.
const METHODS: [(&str, Method); 5] = [
    ("budgeted", Method::Budgeted),
    ("one-shot", Method::OneShot),
    ("gmp", Method::Gmp),
    ("truncated-imp", Method::TruncatedImp),
    ("dense", Method::Dense),
];

impl MethodChoice {
    /// The named method, `None` for auto.
    pub fn method(self) -> Option<Method> {
        match self {
            MethodChoice::Auto => None,
            MethodChoice::Named(m) => Some(m),
        }
    }
}

impl FromStr for MethodChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
        if wanted == "auto" {
            return Ok(MethodChoice::Auto);
        }
        METHODS
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, m)| MethodChoice::Named(*m))
            .ok_or_else(|| {
                format!(
                    "unknown method `{text}`: known methods are auto, {}",
                    METHODS.map(|(n, _)| n).join(", ")
                )
            })
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            MethodChoice::Auto => "auto",
            MethodChoice::Named(method) => METHODS
                .iter()
                .find(|(_, m)| m == method)
                .map_or_else(|| method.name(), |(n, _)| n),
        };
        f.write_str(name)
    }
}

/// A parameter path pattern (`*` matches anything, dots too: `blocks.*.weight`), never
/// empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(pub String);

impl FromStr for Pattern {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let pattern = text.trim();
        if pattern.is_empty() {
            return Err(
                "an empty --include or --exclude pattern matches nothing: give a parameter \
                 path or a pattern such as `conv*.weight`"
                    .into(),
            );
        }
        Ok(Pattern(pattern.to_string()))
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `PATTERN=MULTIPLIER`: the parameters matching the pattern are pruned at the multiplier
/// times the base rate (`0`: never pruned).
#[derive(Debug, Clone, PartialEq)]
pub struct RateRule {
    pub pattern: String,
    pub multiplier: f64,
}

impl FromStr for RateRule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.rsplit_once('=')
            .and_then(|(pattern, multiplier)| {
                let multiplier: f64 = multiplier.trim().parse().ok()?;
                (!pattern.trim().is_empty() && multiplier.is_finite() && multiplier >= 0.0).then(
                    || RateRule {
                        pattern: pattern.trim().to_string(),
                        multiplier,
                    },
                )
            })
            .ok_or_else(|| {
                format!(
                    "--rate {text}: expected PATTERN=MULTIPLIER with a multiplier of 0 or \
                     more, e.g. `conv1.*=0.5` (half the rate) or `head.weight=0` (never pruned)"
                )
            })
    }
}

impl fmt::Display for RateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.pattern, self.multiplier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` parses to `expect`, and its printed form parses back to the same value.
    fn check<T>(text: &str, expect: T)
    where
        T: FromStr<Err = String> + fmt::Display + PartialEq + fmt::Debug,
    {
        let value: T = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(value, expect, "{text}");
        assert_eq!(value.to_string().parse::<T>().unwrap(), expect, "{value}");
    }

    /// `text` is refused with a message naming it and containing `phrase`.
    fn refused<T: FromStr<Err = String> + fmt::Debug>(text: &str, phrase: &str) {
        let message = text.parse::<T>().unwrap_err();
        assert!(message.contains(text.trim()), "{message}");
        assert!(message.contains(phrase), "`{phrase}` not in: {message}");
    }

    #[test]
    fn budgets_read_like_people_write_them() {
        let s = Duration::from_secs;
        for (text, seconds) in [("90s", 90), ("5m", 300), ("1h30m", 5400), ("1h 30m", 5400)] {
            check(text, Budget(s(seconds)));
        }
        refused::<Budget>("soon", "1h30m");
        refused::<Budget>("ten minutes", "90s");
        refused::<Budget>("500ms", "under a second");
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        for (text, bytes) in [
            ("64KiB", 65_536),
            ("64k", 65_536),
            ("1.5MB", 1_500_000),
            ("2MiB", 2_097_152),
            ("30000", 30_000),
            (" 100 B ", 100),
        ] {
            check(text, ByteSize(bytes));
        }
        for bad in ["64 parsecs", "-3KiB"] {
            refused::<ByteSize>(bad, "unknown unit");
        }
        for bad in ["KiB", "0", ""] {
            refused::<ByteSize>(bad, "not a size");
        }
    }

    #[test]
    fn methods_are_named_as_on_the_command_line() {
        check("auto", MethodChoice::Auto);
        check("one-shot", MethodChoice::Named(Method::OneShot));
        check("One_Shot", MethodChoice::Named(Method::OneShot));
        check("truncated-imp", MethodChoice::Named(Method::TruncatedImp));
        refused::<MethodChoice>("magic", "known methods are auto, budgeted, one-shot");
    }

    #[test]
    fn rules_need_a_pattern_and_a_multiplier_of_zero_or_more() {
        check(
            "conv1.*=0.5",
            RateRule {
                pattern: "conv1.*".into(),
                multiplier: 0.5,
            },
        );
        check(
            " head.weight = 0 ",
            RateRule {
                pattern: "head.weight".into(),
                multiplier: 0.0,
            },
        );
        for bad in [
            "conv1.*",
            "=0.5",
            "fc1.weight=-1",
            "fc1.weight=lots",
            "a=inf",
        ] {
            refused::<RateRule>(bad, "PATTERN=MULTIPLIER");
        }
        check("blocks.*.weight", Pattern("blocks.*.weight".into()));
        let message = " ".parse::<Pattern>().unwrap_err();
        assert!(message.contains("matches nothing"), "{message}");
    }
}
