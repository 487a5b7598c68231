//! Splitting text into tokens, after Kim (2014)'s `clean_str`: lower-case (optional),
//! words are runs of letters and digits, English clitics are split off (`don't` → `do`
//! `n't`, `it's` → `it` `'s`), and the punctuation that carries meaning in short texts
//! (`! ? , ( )`) is kept as tokens of its own. Everything else separates tokens.

/// Tokens of `text`.
pub fn tokenize(text: &str, lowercase: bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            split_clitic(word, tokens);
            word.clear();
        }
    };
    for ch in text.chars() {
        if ch.is_alphanumeric() || (ch == '\'' && !word.is_empty()) {
            if lowercase {
                word.extend(ch.to_lowercase());
            } else {
                word.push(ch);
            }
        } else {
            flush(&mut word, &mut tokens);
            if matches!(ch, '!' | '?' | ',' | '(' | ')') {
                tokens.push(ch.to_string());
            }
        }
    }
    flush(&mut word, &mut tokens);
    tokens
}

/// Pushes `word` (letters, digits and inner apostrophes) as one or two tokens.
fn split_clitic(word: &str, tokens: &mut Vec<String>) {
    let word = word.trim_end_matches('\'');
    if word.is_empty() {
        return;
    }
    let lower = word.to_lowercase();
    // Suffixes Kim's clean_str splits off, longest first.
    for suffix in ["n't", "'ve", "'re", "'ll", "'s", "'d", "'m"] {
        if lower.ends_with(suffix) && word.len() > suffix.len() {
            let cut = word.len() - suffix.len();
            tokens.push(word[..cut].to_string());
            tokens.push(word[cut..].to_string());
            return;
        }
    }
    tokens.push(word.to_string());
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn examples() {
        for (text, lower, want) in [
            (
                "How did serfdom develop in and then leave Russia ?",
                true,
                "how did serfdom develop in and then leave russia ?",
            ),
            (
                "Don't stop -- it's great!",
                true,
                "do n't stop it 's great !",
            ),
            ("Don't", false, "Do n't"),
            (
                "the film's 1990s , (sort of)",
                true,
                "the film 's 1990s , ( sort of )",
            ),
            ("'quoted' words'", true, "quoted words"),
            ("café naïve", true, "café naïve"),
            ("", true, ""),
            ("... --- ;;", true, ""),
        ] {
            assert_eq!(tokenize(text, lower).join(" "), want, "{text:?}");
        }
    }
}
