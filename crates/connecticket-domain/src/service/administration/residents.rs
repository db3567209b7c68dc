//! Residents as administrators enter them: one at a time or many at once
//! (all or none), each with their contacts; and the whole list.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::contacts::{contact_from_input, ContactInput};
use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::DomainResult;
use crate::model::{NewResident, Resident, ResidentId};
use crate::service::audit::{record_list_start, AuditedStream, Recorded};
use crate::service::Connecticket;
use crate::store::RowStream;
use crate::text::{parse_bool, BOOLEAN_EXPECTED};
use crate::time::parse_date;
use crate::validate::{PhoneCountry, MAX_SHORT_TEXT};

/// A resident's fields as administrators enter them, by their names.
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

impl Connecticket {
    /// Creates all residents (with their contacts) or none.
    pub async fn create_residents(
        &self,
        call: AdminCall,
        residents: Vec<NewResident>,
    ) -> DomainResult<Vec<ResidentId>> {
        self.administrate(
            call,
            Action::CreateResidents,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                Ok(self
                    .store
                    .create_residents(provider, residents, self.now(), entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Streams the provider's residents, ordered by id; audited when the
    /// stream ends (and, durably, before it starts).
    pub async fn list_residents(&self, call: AdminCall) -> DomainResult<RowStream<Resident>> {
        self.administrate(
            call,
            Action::AllResidents,
            Recorded::ByTheStream,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                record_list_start(self.store.as_ref(), entry).await?;
                Ok(AuditedStream::wrap(
                    self.store.residents(provider, None),
                    Arc::clone(&self.store),
                    entry.clone(),
                    |resident: &Resident| [RecordRef::Resident(resident.id)],
                ))
            },
        )
        .await
    }
}

/// Builds a resident from `(field, value)` pairs; blank values mean unset.
/// The error says which field is wrong and why.
pub fn resident_from_fields<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    contacts: impl IntoIterator<Item = ContactInput>,
    country: PhoneCountry,
) -> Result<NewResident, String> {
    let mut resident = NewResident::named("");
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
            other => return Err(format!("unknown field {other}")),
        }
    }
    if resident.first_name.is_empty() {
        return Err("first_name required".to_owned());
    }
    for (number, input) in contacts.into_iter().enumerate() {
        // The store gives each contact its resident and the import's time.
        let contact = contact_from_input(input, country, DateTime::<Utc>::UNIX_EPOCH)
            .map_err(|error| format!("contact {}: {error}", number + 1))?;
        resident.contacts.push(contact);
    }
    Ok(resident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_resident_and_names_bad_fields() {
        let resident = resident_from_fields(
            [
                ("first_name", "Ada"),
                ("dob", "1937/01/21"),
                ("in_home_care", "yes"),
            ],
            [],
            PhoneCountry::default(),
        )
        .expect("valid");
        assert_eq!(resident.first_name, "Ada");
        assert!(resident.in_home_care);
        assert_eq!(resident.state, "active");
        assert_eq!(
            resident_from_fields([("first_name", "Ada"), ("dob", "soon")], [], us()),
            Err("dob must be a date like 1937/01/21".to_owned())
        );
        assert_eq!(
            resident_from_fields([("last_name", "Lovelace")], [], us()),
            Err("first_name required".to_owned())
        );
    }

    #[test]
    fn each_contact_is_checked() {
        let family = ContactInput {
            role: "family".to_owned(),
            name: "Ann".to_owned(),
            phone: Some("(555) 555-0123".to_owned()),
            sms_consent: true,
            ..ContactInput::default()
        };
        let resident =
            resident_from_fields([("first_name", "Ada")], [family.clone()], us()).expect("valid");
        assert_eq!(resident.contacts[0].phone.as_deref(), Some("+15555550123"));
        assert!(resident.contacts[0].sms_consent && !resident.contacts[0].email_consent);
        let unreachable = ContactInput {
            phone: Some("0123".to_owned()),
            ..family
        };
        assert_eq!(
            resident_from_fields([("first_name", "Ada")], [family_ok(), unreachable], us()),
            Err(
                "contact 2: phone must be a number like (555) 555-0123 or +44 20 7946 0958 \
                 (without a country code, it is read as a number in US)"
                    .to_owned()
            )
        );
    }

    fn us() -> PhoneCountry {
        PhoneCountry::default()
    }

    fn family_ok() -> ContactInput {
        ContactInput {
            role: "family".to_owned(),
            name: "Ann".to_owned(),
            email: Some("ann@example.org".to_owned()),
            ..ContactInput::default()
        }
    }
}
