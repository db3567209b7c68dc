//! The README and docs/ARCHITECTURE.md say how many conformance cases there
//! are; this keeps what they say equal to the lists the suite expands.

const SUITE: &str = include_str!("../src/testing/conformance/mod.rs");
const README: &str = include_str!("../../../README.md");
const ARCHITECTURE: &str = include_str!("../../../docs/ARCHITECTURE.md");

/// The case names each `(@… $open; case case …);` list of `macro` holds.
fn cases(macro_name: &str) -> usize {
    let body = SUITE
        .split(&format!("macro_rules! {macro_name}"))
        .nth(1)
        .unwrap_or_default();
    let body = body.split("macro_rules!").next().unwrap_or_default();
    body.split("$open;")
        .skip(1)
        .map(|list| {
            list.split(");")
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .filter(|word| word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .count()
        })
        .sum()
}

/// The number written just before `phrase` in `text`, wherever it appears.
fn stated(text: &str, phrase: &str) -> Vec<usize> {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.match_indices(phrase)
        .filter_map(|(at, _)| flat[..at].split_whitespace().last()?.parse().ok())
        .collect()
}

#[test]
fn the_docs_state_the_conformance_case_counts() {
    let interface = cases("conformance_suite");
    let engine = cases("engine_conformance_suite");
    assert!(interface > 0 && engine > 0, "no cases found in the suite");
    for (name, text) in [
        ("README.md", README),
        ("docs/ARCHITECTURE.md", ARCHITECTURE),
    ] {
        assert_eq!(
            stated(text, "cases over the storage interface"),
            vec![interface],
            "{name} must say \"{interface} cases over the storage interface\""
        );
        assert_eq!(
            stated(text, "engine-level cases"),
            vec![engine],
            "{name} must say \"{engine} engine-level cases\""
        );
    }
}
