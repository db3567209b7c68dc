//! Time in the contract's formats, rendered in a provider's time zone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// `2016/02/12 03:00:34 -0800`
pub const TIMESTAMP_FORMAT: &str = "%Y/%m/%d %H:%M:%S %z";
/// `1937/01/21`
pub const DATE_FORMAT: &str = "%Y/%m/%d";

pub fn format_timestamp(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format(TIMESTAMP_FORMAT).to_string()
}

pub fn format_date(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
}

/// Parses a timestamp as the contract writes it; also accepts RFC 3339, which
/// integrators reach for first.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_str(text, TIMESTAMP_FORMAT)
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Parses `1937/01/21` or `1937-01-21`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, DATE_FORMAT)
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()
}

/// Seconds since the epoch, the unit every backend stores.
pub fn to_epoch(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

pub fn from_epoch(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_the_provider_zone() {
        let at = parse_timestamp("2016/02/12 03:00:34 -0800").expect("parses");
        assert_eq!(
            format_timestamp(at, chrono_tz::America::Los_Angeles),
            "2016/02/12 03:00:34 -0800"
        );
        assert_eq!(
            format_timestamp(at, chrono_tz::UTC),
            "2016/02/12 11:00:34 +0000"
        );
    }

    #[test]
    fn dates_accept_both_separators() {
        let expected = NaiveDate::from_ymd_opt(1937, 1, 21);
        assert_eq!(parse_date("1937/01/21"), expected);
        assert_eq!(parse_date("1937-01-21"), expected);
        assert_eq!(parse_date("1937/13/21"), None);
    }
}
