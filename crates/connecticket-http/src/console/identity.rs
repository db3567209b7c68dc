//! How the console tells one resident from another: the full name and a
//! second identifier (date of birth, and the room or location when known)
//! wherever a resident is named, as clinical systems do (two identifiers,
//! The Joint Commission NPSG.01.01.01). Messages to families shorten names;
//! the console, whose users are entitled to the record, never does.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use connecticket_domain::model::Resident;

/// One resident as every console page names them.
pub(crate) struct Identity {
    pub id: i64,
    /// "Olsen, Margaret": family name first, as ward lists sort.
    pub name: String,
    /// "May 6, 1940 (age 86)", when recorded.
    pub born: Option<String>,
    /// The room or location, when known.
    pub location: Option<String>,
}

impl Identity {
    pub(crate) fn new(
        id: i64,
        first: &str,
        last: Option<&str>,
        dob: Option<NaiveDate>,
        location: Option<&str>,
        zone: Tz,
    ) -> Self {
        let name = match last.map(str::trim).filter(|last| !last.is_empty()) {
            Some(last) => format!("{last}, {first}"),
            None => first.to_owned(),
        };
        let today = chrono::Utc::now().with_timezone(&zone).date_naive();
        let born = dob.map(|dob| match age_on(dob, today) {
            Some(age) => format!("{} (age {age})", dob.format("%b %-d, %Y")),
            None => dob.format("%b %-d, %Y").to_string(),
        });
        Identity {
            id,
            name,
            born,
            location: location
                .map(str::trim)
                .filter(|location| !location.is_empty())
                .map(str::to_owned),
        }
    }

    pub(crate) fn of(resident: &Resident, zone: Tz) -> Self {
        Identity::new(
            resident.id.get(),
            &resident.first_name,
            resident.last_name.as_deref(),
            resident.dob,
            resident.location.as_deref(),
            zone,
        )
    }

    /// The name, birth date and location in one line (a list's option).
    pub(crate) fn line(&self) -> String {
        let mut line = match &self.born {
            Some(born) => format!("{} — born {born}", self.name),
            None => format!("{} — no date of birth recorded", self.name),
        };
        if let Some(location) = &self.location {
            line.push_str(" — ");
            line.push_str(location);
        }
        line
    }
}

/// Whole years from `dob` to `today`; none for a date in the future.
fn age_on(dob: NaiveDate, today: NaiveDate) -> Option<i32> {
    let mut age = today.year() - dob.year();
    if (today.month(), today.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    (age >= 0).then_some(age)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn age_turns_on_the_birthday() {
        assert_eq!(age_on(date(1940, 5, 6), date(2026, 5, 5)), Some(85));
        assert_eq!(age_on(date(1940, 5, 6), date(2026, 5, 6)), Some(86));
        assert_eq!(age_on(date(2030, 1, 1), date(2026, 5, 6)), None);
    }

    #[test]
    fn two_residents_with_the_same_initial_read_apart() {
        let zone = chrono_tz::UTC;
        let olsen = Identity::new(
            1,
            "Margaret",
            Some("Olsen"),
            Some(date(1938, 2, 1)),
            Some("Room 12"),
            zone,
        );
        let other = Identity::new(2, "Margaret", Some("O'Connor-Whitfield"), None, None, zone);
        assert_eq!(olsen.name, "Olsen, Margaret");
        assert_eq!(other.name, "O'Connor-Whitfield, Margaret");
        assert!(olsen
            .line()
            .starts_with("Olsen, Margaret — born Feb 1, 1938 (age "));
        assert!(olsen.line().ends_with(" — Room 12"));
        assert_eq!(
            other.line(),
            "O'Connor-Whitfield, Margaret — no date of birth recorded"
        );
    }
}
