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

/// A cell of a CSV file people open in a spreadsheet: one that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return is a formula there, so it
/// gets a leading `'` (OWASP's rule for CSV injection). A plain number,
/// such as `-3`, is left as it is: a spreadsheet reads it as a number.
pub fn spreadsheet_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_defused() {
        assert_eq!(spreadsheet_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_cell("-rf"), "'-rf");
        assert_eq!(spreadsheet_cell("+1+1"), "'+1+1");
        assert_eq!(spreadsheet_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_cell("\tx"), "'\tx");
        assert_eq!(spreadsheet_cell("\rx"), "'\rx");
        assert_eq!(spreadsheet_cell("-3"), "-3");
        assert_eq!(spreadsheet_cell("ticket:-3"), "ticket:-3");
        assert_eq!(spreadsheet_cell("Olsen"), "Olsen");
    }

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
