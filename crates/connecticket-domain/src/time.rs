//! Time in the contract's formats, rendered in a provider's time zone.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// `2016/02/12 03:00:34 -0800`
pub const TIMESTAMP_FORMAT: &str = "%Y/%m/%d %H:%M:%S %z";
/// `1937/01/21`
pub const DATE_FORMAT: &str = "%Y/%m/%d";

pub fn format_timestamp(at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    if !(0..=9999).contains(&local.year()) {
        // chrono writes such years with a sign; so do we.
        return local.format(TIMESTAMP_FORMAT).to_string();
    }
    // Every answer carries timestamps, a list of 25 tickets fifty of them:
    // written digit by digit, since `format!` with padding cost an eighth
    // of a list's time (the same text results).
    let offset = local.offset().fix().local_minus_utc();
    let (sign, offset) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let mut text = String::with_capacity(25);
    push_date(&mut text, local.date_naive());
    text.push(' ');
    push_padded(&mut text, local.hour(), 2);
    text.push(':');
    push_padded(&mut text, local.minute(), 2);
    text.push(':');
    push_padded(&mut text, local.second(), 2);
    text.push(' ');
    text.push(sign);
    let offset = offset.unsigned_abs();
    push_padded(&mut text, offset / 3600, 2);
    push_padded(&mut text, offset / 60 % 60, 2);
    text
}

/// Appends `value`'s last `width` decimal digits, zero-padded.
fn push_padded(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

pub fn format_date(date: NaiveDate) -> String {
    if !(0..=9999).contains(&date.year()) {
        return date.format(DATE_FORMAT).to_string();
    }
    let mut text = String::with_capacity(10);
    push_date(&mut text, date);
    text
}

/// Appends `1937/01/21` (for years 0 to 9999).
fn push_date(text: &mut String, date: NaiveDate) {
    push_padded(text, date.year().unsigned_abs(), 4);
    text.push('/');
    push_padded(text, date.month(), 2);
    text.push('/');
    push_padded(text, date.day(), 2);
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
    fn timestamps_are_written_exactly_as_the_format_says() {
        let zones = [
            chrono_tz::America::Los_Angeles,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::St_Johns,
            chrono_tz::Pacific::Chatham,
            chrono_tz::UTC,
        ];
        // Every 7 hours and 13 seconds over about 12 years, across DST
        // changes, in zones with half- and quarter-hour offsets.
        let start = parse_timestamp("2014/01/01 00:00:00 +0000").expect("start");
        for step in 0..15_000 {
            let at = start + chrono::Duration::seconds(step * (7 * 3600 + 13));
            for zone in zones {
                let expected = at.with_timezone(&zone).format(TIMESTAMP_FORMAT).to_string();
                assert_eq!(format_timestamp(at, zone), expected);
                let date = at.date_naive();
                assert_eq!(format_date(date), date.format(DATE_FORMAT).to_string());
            }
        }
        let ancient = NaiveDate::from_ymd_opt(-5, 1, 1).expect("date");
        assert_eq!(
            format_date(ancient),
            ancient.format(DATE_FORMAT).to_string()
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
