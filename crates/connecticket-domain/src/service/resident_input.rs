//! Residents as operators enter them: one from command-line flags, or many
//! from a CSV file whose header names these fields.

use chrono::{DateTime, Utc};

use super::notify_admin::{contact_from_input, ContactInput};
use crate::model::NewResident;
use crate::text::{parse_bool, BOOLEAN_EXPECTED};
use crate::time::parse_date;
use crate::validate::MAX_SHORT_TEXT;

/// The fields an operator may set, in the order a CSV template lists them.
pub const RESIDENT_FIELDS: [&str; 19] = [
    "first_name",
    "last_name",
    "dob",
    "email",
    "phone_number",
    "fax_number",
    "home_address1",
    "home_address2",
    "home_city",
    "home_state",
    "home_zip",
    "location",
    "state",
    "in_home_care",
    "demo",
    "resident_type_id",
    "caretracker_id",
    "customer_number",
    "account_number",
];

/// Up to this many contacts per CSV row, as `contact1_role`, …
pub const MAX_CSV_CONTACTS: usize = 3;

/// Each contact's fields in a CSV row, after its `contactN_` prefix.
pub const CONTACT_FIELDS: [&str; 6] = [
    "role",
    "name",
    "email",
    "phone",
    "email_consent",
    "sms_consent",
];

/// Whether a CSV column is one `resident_from_fields` takes.
pub fn is_csv_field(name: &str) -> bool {
    RESIDENT_FIELDS.contains(&name) || contact_field(name).is_some()
}

/// Every column a CSV may carry, in template order.
pub fn csv_fields() -> Vec<String> {
    let mut fields: Vec<String> = RESIDENT_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    for n in 1..=MAX_CSV_CONTACTS {
        fields.extend(CONTACT_FIELDS.iter().map(|f| format!("contact{n}_{f}")));
    }
    fields
}

/// `contact2_phone` -> (2, "phone").
fn contact_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("contact")?;
    let (number, field) = rest.split_once('_')?;
    let number: usize = number.parse().ok()?;
    ((1..=MAX_CSV_CONTACTS).contains(&number) && CONTACT_FIELDS.contains(&field))
        .then_some((number, field))
}

/// Builds a resident from `(field, value)` pairs; blank values mean unset.
/// The error says which field is wrong and why.
pub fn resident_from_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<NewResident, String> {
    let mut resident = NewResident::named("");
    let mut contacts: std::collections::BTreeMap<usize, ContactInput> = Default::default();
    for (name, value) in fields {
        if value.contains('\0') {
            return Err(format!("{name} must not contain NUL characters"));
        }
        if value.chars().count() > MAX_SHORT_TEXT {
            return Err(format!(
                "{name} must be at most {MAX_SHORT_TEXT} characters"
            ));
        }
        let text = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
        let flag = || {
            parse_bool(value)
                .map(|v| v.unwrap_or(false))
                .map_err(|()| format!("{name} {BOOLEAN_EXPECTED}"))
        };
        match name {
            "first_name" => resident.first_name = text.unwrap_or_default(),
            "last_name" => resident.last_name = text,
            "dob" => {
                resident.dob = text
                    .map(|t| parse_date(&t).ok_or("dob must be a date like 1937/01/21"))
                    .transpose()?;
            }
            "email" => resident.email = text,
            "phone_number" => resident.phone_number = text,
            "fax_number" => resident.fax_number = text,
            "home_address1" => resident.home_address1 = text,
            "home_address2" => resident.home_address2 = text,
            "home_city" => resident.home_city = text,
            "home_state" => resident.home_state = text,
            "home_zip" => resident.home_zip = text,
            "location" => resident.location = text,
            "state" => resident.state = text.unwrap_or_else(|| "active".to_owned()),
            "in_home_care" => resident.in_home_care = flag()?,
            "demo" => resident.demo = flag()?,
            "resident_type_id" => {
                resident.resident_type_id = text
                    .map(|t| {
                        t.parse::<i64>()
                            .map_err(|_| "resident_type_id must be an integer")
                    })
                    .transpose()?;
            }
            "caretracker_id" => resident.caretracker_id = text,
            "customer_number" => resident.customer_number = text,
            "account_number" => resident.account_number = text,
            other => match contact_field(other) {
                Some((number, field)) => {
                    if let Some(text) = text {
                        let contact = contacts.entry(number).or_default();
                        match field {
                            "role" => contact.role = text,
                            "name" => contact.name = text,
                            "email" => contact.email = Some(text),
                            "phone" => contact.phone = Some(text),
                            "email_consent" => contact.email_consent = flag()?,
                            _ => contact.sms_consent = flag()?,
                        }
                    }
                }
                None => return Err(format!("unknown field {other}")),
            },
        }
    }
    if resident.first_name.is_empty() {
        return Err("first_name required".to_owned());
    }
    for (number, input) in contacts {
        // The store gives each contact its resident and the import's time.
        let contact = contact_from_input(input, DateTime::<Utc>::UNIX_EPOCH)
            .map_err(|error| format!("contact{number}: {error}"))?;
        resident.contacts.push(contact);
    }
    Ok(resident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_may_carry_contacts_each_checked() {
        let resident = resident_from_fields([
            ("first_name", "Ada"),
            ("contact1_role", "family"),
            ("contact1_name", "Ann"),
            ("contact1_phone", "+1 555 555 0123"),
            ("contact1_sms_consent", "yes"),
            ("contact2_role", ""),
            ("contact2_name", ""),
        ])
        .expect("valid");
        assert_eq!(resident.contacts.len(), 1, "a blank contact is none");
        assert_eq!(resident.contacts[0].phone.as_deref(), Some("+15555550123"));
        assert!(resident.contacts[0].sms_consent && !resident.contacts[0].email_consent);
        assert_eq!(
            resident_from_fields([
                ("first_name", "Ada"),
                ("contact2_role", "family"),
                ("contact2_name", "Ann"),
                ("contact2_phone", "0123"),
            ]),
            Err("contact2: phone must be in E.164 form, like +15555550123".to_owned())
        );
        assert!(is_csv_field("contact3_email") && !is_csv_field("contact4_email"));
        assert_eq!(csv_fields().len(), 19 + 18);
    }

    #[test]
    fn builds_a_resident_and_names_bad_fields() {
        let resident = resident_from_fields([
            ("first_name", "Ada"),
            ("dob", "1937/01/21"),
            ("in_home_care", "yes"),
        ])
        .expect("valid");
        assert_eq!(resident.first_name, "Ada");
        assert!(resident.in_home_care);
        assert_eq!(resident.state, "active");
        assert_eq!(
            resident_from_fields([("first_name", "Ada"), ("dob", "soon")]),
            Err("dob must be a date like 1937/01/21".to_owned())
        );
        assert_eq!(
            resident_from_fields([("last_name", "Lovelace")]),
            Err("first_name required".to_owned())
        );
    }
}
