//! FHIR search parameters, read strictly: a parameter, modifier or prefix
//! this server does not support is a 400 naming it, never silently
//! ignored (a misspelled filter must not return every patient).

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use connecticket_domain::fhir::{DayRange, InstantRange, Window, DEFAULT_COUNT, MAX_COUNT};
use connecticket_domain::text::printable;

use super::request::FhirRequest;
use crate::error::HttpError;

/// Parameters every search takes.
pub(crate) const COMMON: [&str; 5] = ["_count", "_summary", "_format", "_cursor", "_lastUpdated"];

/// FHIR answers a search it cannot process with 400.
pub(crate) fn invalid(message: String) -> HttpError {
    HttpError::BadRequest(message)
}

/// Refuses any parameter outside `known` (and `COMMON`).
pub(crate) fn only(request: &FhirRequest, known: &[&str]) -> Result<(), HttpError> {
    for (name, _) in &request.params {
        if COMMON.contains(&name.as_str()) || known.contains(&name.as_str()) {
            continue;
        }
        let message = match name.split_once(':') {
            Some((base, _)) if known.contains(&base) || COMMON.contains(&base) => format!(
                "search parameter {} uses a modifier this server does not support",
                printable(name)
            ),
            _ => format!(
                "search parameter {} is not supported here; see /fhir/R4/metadata",
                printable(name)
            ),
        };
        return Err(invalid(message));
    }
    Ok(())
}

/// The one value of a parameter that may be given once.
pub(crate) fn single<'a>(
    request: &'a FhirRequest,
    name: &'static str,
) -> Result<Option<&'a str>, HttpError> {
    let mut values = request.all(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(invalid(format!("{name} may be given once")));
    }
    match first {
        Some(value) if value.trim().is_empty() => Err(invalid(format!("{name} is empty"))),
        other => Ok(other.map(str::trim)),
    }
}

/// `_count` and the keyset cursor `_cursor` (from a `next` link).
pub(crate) fn window(request: &FhirRequest) -> Result<Window, HttpError> {
    let count = match single(request, "_count")? {
        None => DEFAULT_COUNT,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|count| *count <= MAX_COUNT)
            .ok_or_else(|| {
                invalid(format!(
                    "_count must be a whole number from 0 to {MAX_COUNT}"
                ))
            })?,
    };
    let after = match single(request, "_cursor")? {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|after| *after >= 0)
                .ok_or_else(|| invalid("_cursor is not one this server gave".to_owned()))?,
        ),
    };
    Ok(Window { after, count })
}

/// `_summary=count` asks for the total only; `_summary=false` is the
/// default; other summaries are not offered.
pub(crate) fn summary_count(request: &FhirRequest) -> Result<bool, HttpError> {
    match single(request, "_summary")? {
        None | Some("false") => Ok(false),
        Some("count") => Ok(true),
        Some(_) => Err(invalid("_summary supports count and false only".to_owned())),
    }
}

/// A comma-separated list of ids (`_id=1,2`).
pub(crate) fn ids(
    request: &FhirRequest,
    name: &'static str,
) -> Result<Option<Vec<i64>>, HttpError> {
    let Some(text) = single(request, name)? else {
        return Ok(None);
    };
    text.split(',')
        .map(|id| id.trim().parse::<i64>().ok().filter(|id| *id > 0))
        .collect::<Option<Vec<i64>>>()
        .map(Some)
        .ok_or_else(|| invalid(format!("{name} takes ids, comma-separated")))
}

/// `patient=`: a Patient reference, once.
pub(crate) fn patient(request: &FhirRequest) -> Result<Option<i64>, HttpError> {
    match single(request, "patient")? {
        None => Ok(None),
        Some(text) => patient_reference(text)
            .map(Some)
            .ok_or_else(|| invalid("patient takes a Patient reference".to_owned())),
    }
}

/// A reference to a Patient: `123`, `Patient/123` or its full URL.
pub(crate) fn patient_reference(text: &str) -> Option<i64> {
    let id = match text.rsplit_once("Patient/") {
        Some((_, id)) => id,
        None => text,
    };
    id.parse::<i64>().ok().filter(|id| *id > 0)
}

/// A FHIR date search value's prefix and period: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

fn prefix(text: &str) -> (Prefix, &str) {
    let prefixes = [
        ("eq", Prefix::Eq),
        ("gt", Prefix::Gt),
        ("sa", Prefix::Gt),
        ("ge", Prefix::Ge),
        ("lt", Prefix::Lt),
        ("eb", Prefix::Lt),
        ("le", Prefix::Le),
    ];
    for (spelling, prefix) in prefixes {
        if let Some(rest) = text.strip_prefix(spelling) {
            return (prefix, rest);
        }
    }
    (Prefix::Eq, text)
}

/// The days `YYYY`, `YYYY-MM` or `YYYY-MM-DD` covers: `[start, end)`.
fn day_period(text: &str) -> Option<(NaiveDate, NaiveDate)> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |part: &str, digits: usize| {
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let year = i32::try_from(number(parts.first()?, 4)?).ok()?;
    match parts.len() {
        1 => {
            let start = NaiveDate::from_ymd_opt(year, 1, 1)?;
            Some((start, start.checked_add_months(Months::new(12))?))
        }
        2 => {
            let start = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, 1)?;
            Some((start, start.checked_add_months(Months::new(1))?))
        }
        3 => {
            let start = NaiveDate::from_ymd_opt(year, number(parts[1], 2)?, number(parts[2], 2)?)?;
            Some((start, start.succ_opt()?))
        }
        _ => None,
    }
}

/// The instants a date or a dateTime (to the second, with its zone)
/// covers: `[start, end)`.
fn instant_period(text: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if !text.contains('T') {
        let (start, end) = day_period(text)?;
        let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|at| at.and_utc());
        return Some((midnight(start)?, midnight(end)?));
    }
    let at = DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        // FHIR allows a dateTime without seconds.
        let (local, zone) = match text.strip_suffix('Z') {
            Some(local) => (local, "Z"),
            None => {
                let split = text.len().checked_sub(6)?;
                (text.get(..split)?, text.get(split..)?)
            }
        };
        NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").ok()?;
        DateTime::parse_from_rfc3339(&format!("{local}:00{zone}")).ok()
    })?;
    let at = at.with_timezone(&Utc);
    let second = at - TimeDelta::nanoseconds(i64::from(at.timestamp_subsec_nanos()));
    Some((second, second + TimeDelta::seconds(1)))
}

/// Narrows `[from, until)` by one prefixed period.
fn narrow<T: Copy + Ord>(
    (from, until): (Option<T>, Option<T>),
    prefix: Prefix,
    (start, end): (T, T),
) -> (Option<T>, Option<T>) {
    let (low, high) = match prefix {
        Prefix::Eq => (Some(start), Some(end)),
        Prefix::Gt => (Some(end), None),
        Prefix::Ge => (Some(start), None),
        Prefix::Lt => (None, Some(start)),
        Prefix::Le => (None, Some(end)),
    };
    let from = from.max(low);
    let until = match (until, high) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    (from, until)
}

fn date_error(name: &str) -> HttpError {
    invalid(format!(
        "{name} takes a date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime) with an optional prefix eq, gt, ge, lt, le, sa or eb"
    ))
}

/// Every value of a day parameter (`birthdate`), each narrowing the range.
pub(crate) fn day_range(request: &FhirRequest, name: &'static str) -> Result<DayRange, HttpError> {
    let mut range = (None, None);
    for value in request.all(name) {
        let (prefix, text) = prefix(value.trim());
        let period = day_period(text).ok_or_else(|| date_error(name))?;
        range = narrow(range, prefix, period);
    }
    Ok(DayRange {
        from: range.0,
        until: range.1,
    })
}

/// Every value of an instant parameter (`_lastUpdated`).
pub(crate) fn instant_range(
    request: &FhirRequest,
    name: &'static str,
) -> Result<InstantRange, HttpError> {
    let mut range = (None, None);
    for value in request.all(name) {
        let (prefix, text) = prefix(value.trim());
        let period = instant_period(text).ok_or_else(|| date_error(name))?;
        range = narrow(range, prefix, period);
    }
    Ok(InstantRange {
        from: range.0,
        until: range.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    #[test]
    fn partial_dates_cover_their_whole_period() {
        assert_eq!(
            day_period("1950"),
            Some((day("1950-01-01"), day("1951-01-01")))
        );
        assert_eq!(
            day_period("1950-12"),
            Some((day("1950-12-01"), day("1951-01-01")))
        );
        assert_eq!(
            day_period("1950-02-28"),
            Some((day("1950-02-28"), day("1950-03-01")))
        );
        assert_eq!(day_period("1950-13"), None);
        assert_eq!(day_period("50"), None);
        assert_eq!(day_period("1950-1-1"), None);
    }

    #[test]
    fn prefixes_open_the_range_on_the_right_side() {
        let period = (day("1950-01-01"), day("1951-01-01"));
        assert_eq!(
            narrow((None, None), Prefix::Gt, period),
            (Some(period.1), None)
        );
        assert_eq!(
            narrow((None, None), Prefix::Le, period),
            (None, Some(period.1))
        );
        assert_eq!(
            narrow((None, None), Prefix::Lt, period),
            (None, Some(period.0))
        );
        let both = narrow(
            narrow((None, None), Prefix::Ge, period),
            Prefix::Lt,
            (day("1960-01-01"), day("1961-01-01")),
        );
        assert_eq!(both, (Some(period.0), Some(day("1960-01-01"))));
    }

    #[test]
    fn date_times_cover_their_second_in_utc() {
        let (start, end) = instant_period("2026-01-02T03:04:05+01:00").expect("valid");
        assert_eq!(start.to_rfc3339(), "2026-01-02T02:04:05+00:00");
        assert_eq!((end - start).num_seconds(), 1);
        let (start, _) = instant_period("2026-01-02T03:04Z").expect("minutes only");
        assert_eq!(start.to_rfc3339(), "2026-01-02T03:04:00+00:00");
        assert!(instant_period("2026-01-02T03").is_none());
        assert_eq!(prefix("ge2026"), (Prefix::Ge, "2026"));
    }

    #[test]
    fn patient_references_in_every_spelling() {
        assert_eq!(patient_reference("12"), Some(12));
        assert_eq!(patient_reference("Patient/12"), Some(12));
        assert_eq!(patient_reference("http://x/fhir/R4/Patient/12"), Some(12));
        assert_eq!(patient_reference("Group/12x"), None);
    }
}
