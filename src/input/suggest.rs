//! "Did you mean ...?": the closest known name to a misspelt one, so that a typo in an
//! inventory or a role is an error that tells the operator the fix rather than a silently ignored key.

/// The candidate closest to `word`, if it is close enough to be a plausible typo: at most one
/// edit for short words, two for words of 6+ characters, three for 12+; or a word of 5+
/// characters that is the start of a candidate but for its last character (`childs` ->
/// `children`: three edits, yet an obvious slip). Ties go to the first candidate, so callers
/// list candidates in the order they want preferred.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let budget = match word.chars().count() {
        0..=5 => 1,
        6..=11 => 2,
        _ => 3,
    };
    let length = word.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        // The distance is at least the difference in length: past the budget, the table of
        // edits is not worth its cost (length times length: minutes for a name of a few MiB).
        let gap = length.abs_diff(candidate.chars().count());
        let mut distance = if gap > budget {
            gap
        } else {
            edit_distance(word, candidate)
        };
        // A truncation is plausible but ranks behind any closer candidate.
        if distance > budget && is_truncation(word, candidate) {
            distance = budget;
        }
        if distance <= budget && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

fn is_truncation(word: &str, candidate: &str) -> bool {
    let mut chars = word.chars();
    chars.next_back();
    let stem = chars.as_str();
    word.chars().count() >= 5 && candidate.starts_with(stem) && candidate != word
}

/// `"; did you mean X?"`, or nothing: appended to an error message.
pub(crate) fn hint<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    did_you_mean(word, candidates).map_or_else(String::new, |c| format!("; did you mean {c}?"))
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the commonest
/// typing slip (`relya_type`). Case differences count as edits.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rolling rows: two back (for transpositions), previous and current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_transpositions() {
        assert_eq!(edit_distance("relay_type", "relay_type"), 0);
        assert_eq!(edit_distance("relay_typ", "relay_type"), 1);
        assert_eq!(edit_distance("relya_type", "relay_type"), 1);
        assert_eq!(edit_distance("host", "hosts"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggests_only_plausible_typos() {
        let known = ["hosts", "children", "vars"];
        assert_eq!(did_you_mean("host", known), Some("hosts"));
        assert_eq!(did_you_mean("childs", known), Some("children"));
        assert_eq!(did_you_mean("var", known), Some("vars"));
        assert_eq!(
            did_you_mean("relay2", ["relay01", "relay02"]),
            Some("relay02")
        );
        assert_eq!(did_you_mean("relay_type", known), None);
        let long = "relay_type".repeat(100_000);
        assert_eq!(did_you_mean(&long, ["relay_type"]), None);
        assert_eq!(did_you_mean("relay_ty", ["relay_type"]), Some("relay_type"));
    }

    #[test]
    fn hint_is_empty_without_a_close_candidate() {
        assert_eq!(
            hint("relay_typ", ["relay_type", "relay_fqdn"]),
            "; did you mean relay_type?"
        );
        assert_eq!(hint("zzz", ["relay_type"]), "");
    }
}
