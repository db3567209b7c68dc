//! Reading the contract's text values: booleans, and names shown back to
//! whoever sent them.

/// `true/false`, `1/0`, `yes/no`, `on/off`, any case, surrounding spaces
/// ignored; blank means absent. `Err(())` for anything else.
#[allow(clippy::result_unit_err)]
pub fn parse_bool(value: &str) -> Result<Option<bool>, ()> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// What the message of a refused boolean says after the name.
pub const BOOLEAN_EXPECTED: &str = "must be a boolean (true/false, 1/0, yes/no, on/off)";

/// A client-chosen name, short and printable, to quote in an error.
pub fn printable(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_the_documented_spellings() {
        for yes in ["true", "TRUE", "1", "yes", "On"] {
            assert_eq!(parse_bool(yes), Ok(Some(true)), "{yes}");
        }
        for no in ["false", "0", "NO", "off"] {
            assert_eq!(parse_bool(no), Ok(Some(false)), "{no}");
        }
        assert_eq!(parse_bool(" "), Ok(None));
        assert_eq!(parse_bool("maybe"), Err(()));
    }

    #[test]
    fn printable_names_are_short_and_clean() {
        assert_eq!(printable("a\u{0}b\nc"), "abc");
        assert_eq!(printable(&"x".repeat(100)).len(), 64);
    }
}
