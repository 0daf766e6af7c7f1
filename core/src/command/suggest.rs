//! "Did you mean …": the closest known spelling to a mistyped command or flag name.

/// The candidate closest to `given`, when it is close enough to be what was meant: at most two edits away
/// (one for short words), `given` is a prefix of it (`roll` → `rollback`), or — without dashes, at least four
/// letters — a part of it (`--revision` → `--to-revision`). Ties go to the more similar word.
pub fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let given = given.to_ascii_lowercase();
    let given_len = given.chars().count();
    if given_len == 0 || given_len > 64 {
        return None;
    }
    let max_edits = if given_len <= 3 { 1 } else { 2 };
    candidates
        .into_iter()
        .filter_map(|candidate| {
            let edits = strsim::damerau_levenshtein(&given, candidate);
            let prefix = given_len >= 3 && candidate.starts_with(&given);
            // `--revision` for `--to-revision`: the word without its dashes is part of the candidate.
            let core = given.trim_start_matches('-');
            let part =
                core.chars().count() >= 4 && candidate.trim_start_matches('-').contains(core);
            let close = edits <= max_edits && edits < candidate.chars().count();
            (close || prefix || part)
                .then(|| (edits, strsim::jaro_winkler(&given, candidate), candidate))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    const NAMES: [&str; 6] = ["scale", "status", "rollback", "restart", "top", "5xx"];

    #[test]
    fn transposition_is_one_edit() {
        assert_eq!(did_you_mean("scael", NAMES), Some("scale"));
        assert_eq!(did_you_mean("SCAEL", NAMES), Some("scale"));
    }

    #[test]
    fn prefix_suggests_the_longer_name() {
        assert_eq!(did_you_mean("roll", NAMES), Some("rollback"));
        assert_eq!(did_you_mean("rest", NAMES), Some("restart"));
    }

    #[test]
    fn short_words_allow_one_edit_only() {
        assert_eq!(did_you_mean("tpo", NAMES), Some("top"));
        assert_eq!(did_you_mean("xx", NAMES), Some("5xx"));
        assert_eq!(did_you_mean("ab", NAMES), None);
    }

    #[test]
    fn a_part_of_a_flag_suggests_the_flag() {
        assert_eq!(
            did_you_mean("--revision", ["--to-revision", "--tail"]),
            Some("--to-revision")
        );
        assert_eq!(did_you_mean("--rev", ["--to-revision"]), None);
    }

    #[test]
    fn nothing_close_gives_none() {
        assert_eq!(did_you_mean("kubectl", NAMES), None);
        assert_eq!(did_you_mean("", NAMES), None);
        assert_eq!(did_you_mean(&"x".repeat(1000), NAMES), None);
    }

    #[test]
    fn unicode_input_is_fine() {
        assert_eq!(did_you_mean("scälé", NAMES), Some("scale"));
        assert_eq!(did_you_mean("🚀🚀", NAMES), None);
    }
}
