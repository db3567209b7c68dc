//! The rules every input obeys, whichever surface it came through.

use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::command::{AddComment, RaiseTicket, Upload};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{NewAttachment, NewComment, NewTicket, Rating};

/// Longest accepted single-line text (titles, names, types).
pub const MAX_SHORT_TEXT: usize = 255;
/// Longest accepted comment.
pub const MAX_COMMENT_TEXT: usize = 20_000;
/// Longest accepted `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Largest accepted `per_page`.
pub const MAX_PER_PAGE: u32 = 1_000;
/// `per_page` when only `page` is given.
pub const DEFAULT_PER_PAGE: u32 = 100;
/// The most categories one ticket request rates or comments on, so that a
/// request makes a bounded number of records.
pub const MAX_CATEGORIES_PER_TICKET: usize = 100;

const DEFAULT_FILE_NAME: &str = "attachment";
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Refuses text longer than `max` characters, and NUL (PostgreSQL cannot
/// store it).
pub fn check_text(field: Field, value: &str, max: usize) -> DomainResult<()> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            Problem::TooLong { max_chars: max },
        ));
    }
    if value.contains('\0') {
        return Err(DomainError::invalid(
            field,
            Problem::Rule("must not contain NUL characters".to_owned()),
        ));
    }
    Ok(())
}

/// Required text: blank is missing.
pub fn required_text(field: Field, value: &str, max: usize) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(field, Problem::Required));
    }
    check_text(field, value, max)?;
    Ok(value.to_owned())
}

fn optional_text(field: Field, value: Option<String>, max: usize) -> DomainResult<Option<String>> {
    match value.filter(|text| !text.trim().is_empty()) {
        Some(text) => {
            check_text(field, &text, max)?;
            Ok(Some(text))
        }
        None => Ok(None),
    }
}

/// A ticket ready to store, made by the principal at `now`.
pub fn new_ticket(
    command: RaiseTicket,
    principal: &Principal,
    now: DateTime<Utc>,
) -> DomainResult<NewTicket> {
    if command.title.trim().is_empty() {
        return Err(DomainError::invalid(Field::Title, Problem::Required));
    }
    check_text(Field::Title, &command.title, MAX_SHORT_TEXT)?;
    if let (Some(start), Some(end)) = (command.start_date, command.end_date) {
        if end < start {
            return Err(DomainError::invalid(
                Field::EndDate,
                Problem::Rule("must not be before start_date".to_owned()),
            ));
        }
    }
    let categories: std::collections::BTreeSet<_> = command
        .ratings
        .keys()
        .chain(command.category_comments.keys())
        .collect();
    if categories.len() > MAX_CATEGORIES_PER_TICKET {
        return Err(DomainError::invalid(
            Field::Categories,
            Problem::TooMany {
                max: MAX_CATEGORIES_PER_TICKET,
            },
        ));
    }
    let comment = |category_id, body| NewComment {
        category_id,
        employee_id: principal.employee_id,
        body,
        created_at: now,
    };
    let mut comments = Vec::new();
    if let Some(text) = optional_text(
        Field::GeneralComment,
        command.general_comment,
        MAX_COMMENT_TEXT,
    )? {
        comments.push(comment(None, text));
    }
    for (category_id, text) in command.category_comments {
        if let Some(text) = optional_text(
            Field::CategoryComment(category_id),
            Some(text),
            MAX_COMMENT_TEXT,
        )? {
            comments.push(comment(Some(category_id), text));
        }
    }
    let attachments = command
        .attachments
        .into_iter()
        .map(new_attachment)
        .collect::<DomainResult<_>>()?;
    Ok(NewTicket {
        id: None,
        title: command.title,
        resident_id: command.resident_id,
        employee_id: principal.employee_id,
        application_id: principal.application_id(),
        urgency: command.urgency,
        ticket_status: command.status,
        ticket_type: optional_text(Field::TicketType, command.ticket_type, MAX_SHORT_TEXT)?,
        state: command.state,
        sms: command.sms,
        email: command.email,
        sent_to_family: command.sent_to_family,
        sent_to_healthcare_pro: command.sent_to_healthcare_pro,
        sent_to_primary: command.sent_to_primary,
        start_date: command.start_date,
        end_date: command.end_date,
        ratings: command
            .ratings
            .into_iter()
            .map(|(category_id, rating)| Rating {
                category_id,
                rating,
            })
            .collect(),
        comments,
        attachments,
        created_at: now,
    })
}

/// A file as the store keeps it: a name and a type (defaults when blank),
/// each within bounds.
pub fn new_attachment(upload: Upload) -> DomainResult<NewAttachment> {
    let file_name = match upload.file_name.trim() {
        "" => DEFAULT_FILE_NAME.to_owned(),
        name => name.to_owned(),
    };
    check_text(Field::AttachmentFileName, &file_name, MAX_SHORT_TEXT)?;
    let content_type = match upload.content_type.trim() {
        "" => DEFAULT_CONTENT_TYPE.to_owned(),
        content_type => content_type.to_owned(),
    };
    check_text(Field::AttachmentContentType, &content_type, MAX_SHORT_TEXT)?;
    Ok(NewAttachment {
        file_name,
        content_type,
        data: upload.data,
    })
}

/// A comment ready to store.
pub fn new_comment(
    command: &AddComment,
    principal: &Principal,
    now: DateTime<Utc>,
) -> DomainResult<NewComment> {
    if command.body.trim().is_empty() {
        return Err(DomainError::invalid(Field::Comment, Problem::Required));
    }
    check_text(Field::Comment, &command.body, MAX_COMMENT_TEXT)?;
    Ok(NewComment {
        category_id: command.category_id,
        employee_id: principal.employee_id,
        body: command.body.clone(),
        created_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Via;
    use crate::model::{
        AccessTokenId, ApplicationId, CategoryId, EmployeeId, Provider, ProviderId, ResidentId,
    };
    use crate::time::from_epoch;

    fn principal() -> Principal {
        Principal {
            provider: Provider {
                id: ProviderId(1),
                name: "P".to_owned(),
                time_zone: "UTC".to_owned(),
                country: "US".to_owned(),
                created_at: from_epoch(0),
            },
            employee_id: EmployeeId(7),
            via: Via::Application {
                application_id: ApplicationId(3),
                token_id: AccessTokenId(4),
            },
        }
    }

    #[test]
    fn a_ticket_gets_its_maker_and_blank_parts_are_dropped() {
        let mut command = RaiseTicket::new("Fall", ResidentId(5));
        command.general_comment = Some("  ".to_owned());
        command
            .category_comments
            .insert(CategoryId(2), "bruise".to_owned());
        command.attachments.push(Upload {
            file_name: " ".to_owned(),
            content_type: String::new(),
            data: bytes::Bytes::from_static(b"x"),
        });
        let ticket = new_ticket(command, &principal(), from_epoch(10)).expect("valid");
        assert_eq!(ticket.employee_id, EmployeeId(7));
        assert_eq!(ticket.application_id, Some(ApplicationId(3)));
        assert_eq!(ticket.comments.len(), 1);
        assert_eq!(ticket.comments[0].category_id, Some(CategoryId(2)));
        assert_eq!(ticket.attachments[0].file_name, "attachment");
        assert_eq!(
            ticket.attachments[0].content_type,
            "application/octet-stream"
        );
    }

    #[test]
    fn rules_name_the_field() {
        let mut command = RaiseTicket::new("x".repeat(256), ResidentId(5));
        let error = new_ticket(command.clone(), &principal(), from_epoch(10)).expect_err("long");
        assert_eq!(error.to_string(), "title must be at most 255 characters");
        command.title = "ok".to_owned();
        command.start_date = chrono::NaiveDate::from_ymd_opt(2026, 2, 2);
        command.end_date = chrono::NaiveDate::from_ymd_opt(2026, 2, 1);
        let error = new_ticket(command, &principal(), from_epoch(10)).expect_err("dates");
        assert_eq!(error.to_string(), "end_date must not be before start_date");
    }
}

/// An email address as a contact may carry it: one `@`, a dotted domain,
/// no spaces or control characters, at most 254 characters. (Deliverable
/// or not is the mail server's to say.)
pub fn email_address(value: &str) -> DomainResult<String> {
    let value = value.trim();
    let bad = |why: &str| {
        Err(DomainError::invalid(
            Field::Email,
            Problem::Rule(why.to_owned()),
        ))
    };
    if value.chars().count() > 254 {
        return bad("must be at most 254 characters");
    }
    let Some((local, domain)) = value.split_once('@') else {
        return bad("must look like name@example.org");
    };
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | '<' | '>' | ',' | ';' | '"'))
    };
    if !plain(local)
        || !plain(domain)
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return bad("must look like name@example.org");
    }
    Ok(value.to_owned())
}

/// The country a phone number written without its country code is read
/// in: a provider's (ISO 3166 alpha-2, `US` unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneCountry(phonenumber::country::Id);

impl Default for PhoneCountry {
    fn default() -> Self {
        PhoneCountry(phonenumber::country::Id::US)
    }
}

impl PhoneCountry {
    /// A country by its two-letter code, any case; `None` for a code the
    /// numbering plan does not know.
    pub fn parse(code: &str) -> Option<PhoneCountry> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .ok()
            .map(PhoneCountry)
    }

    /// Checks a code an administrator gives, answering it upper-cased.
    pub fn checked(code: &str) -> DomainResult<String> {
        match PhoneCountry::parse(code) {
            Some(country) => Ok(country.code()),
            None => Err(DomainError::invalid(
                Field::Country,
                Problem::Rule("must be a two-letter country code, like US or GB".to_owned()),
            )),
        }
    }

    pub fn code(self) -> String {
        self.0.as_ref().to_owned()
    }
}

/// A phone number as people write it ("(555) 555-0199", "+44 20 7946
/// 0958", "020 7946 0958"), read with the numbering plan of `country`
/// unless it starts with `+`, and answered in E.164.
///
/// The plan decides what a number looks like; whether it is assigned is
/// not asked (the 555 numbers of examples and tests are not).
pub fn phone_number(value: &str, country: PhoneCountry) -> DomainResult<String> {
    let refused = || {
        DomainError::invalid(
            Field::Phone,
            Problem::Rule(format!(
                "must be a number like (555) 555-0123 or +44 20 7946 0958 \
                 (without a country code, it is read as a number in {})",
                country.code()
            )),
        )
    };
    let text = value.trim();
    let plausible = !text.is_empty()
        && text.len() <= 40
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '+' | '/'));
    if !plausible {
        return Err(refused());
    }
    let number = phonenumber::parse(Some(country.0), text).map_err(|_| refused())?;
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    // The plan parses fragments too: the national part must have a length
    // the country's numbers have when dialled from anywhere (not a local
    // seven-digit US number, say). Whether it is assigned is not asked.
    let national = number.national().value().to_string().len();
    let dialable = numbering_plan(&number).is_some_and(|plan| {
        let kinds = plan.descriptors();
        let lengths = [
            Some(kinds.general()),
            kinds.fixed_line(),
            kinds.mobile(),
            kinds.toll_free(),
            kinds.voip(),
            kinds.personal_number(),
            kinds.uan(),
        ];
        u16::try_from(national).is_ok_and(|length| {
            lengths
                .into_iter()
                .flatten()
                .any(|kind| kind.possible_length().contains(&length))
        })
    });
    if dialable && e164.len() <= 16 {
        Ok(e164)
    } else {
        Err(refused())
    }
}

/// The numbering plan of a number's country code: its main country's (the
/// US's for +1), or the code's only one.
fn numbering_plan(number: &phonenumber::PhoneNumber) -> Option<&'static phonenumber::Metadata> {
    let plans = phonenumber::metadata::DATABASE.by_code(&number.code().value())?;
    let main = plans
        .iter()
        .position(|plan| plan.is_main_country_for_code());
    plans.into_iter().nth(main.unwrap_or(0))
}

#[cfg(test)]
mod contact_tests {
    use super::*;

    #[test]
    fn emails_and_phones_are_checked() {
        assert_eq!(
            email_address(" ada@example.org ").ok().as_deref(),
            Some("ada@example.org")
        );
        for bad in [
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a da@example.org",
            "ada@@x.org",
            "ada@x.org>",
        ] {
            assert!(email_address(bad).is_err(), "{bad}");
        }
        let us = PhoneCountry::default();
        let gb = PhoneCountry::parse("gb").expect("a country");
        for (written, country, e164) in [
            ("+1 (555) 555-0123", us, "+15555550123"),
            ("(555) 555-0199", us, "+15555550199"),
            ("555.555.0199", us, "+15555550199"),
            ("1-555-555-0199", us, "+15555550199"),
            ("020 7946 0958", gb, "+442079460958"),
            ("+44 20 7946 0958", us, "+442079460958"),
            ("07700 900123", gb, "+447700900123"),
        ] {
            assert_eq!(
                phone_number(written, country).ok().as_deref(),
                Some(e164),
                "{written} in {}",
                country.code()
            );
        }
        for bad in [
            "",
            "0123",
            "+1555",
            "+1555555012345678",
            "+1555abc0123",
            "call me",
        ] {
            assert!(phone_number(bad, us).is_err(), "{bad}");
        }
        assert_eq!(PhoneCountry::checked(" gb ").ok().as_deref(), Some("GB"));
        for odd in [
            "+",
            "++1",
            "()",
            "+(0)",
            "00",
            "+0",
            "+1-",
            "+999 999",
            "+44 (0) 20 7946 0958",
        ] {
            let _ = phone_number(odd, gb);
        }
        assert!(PhoneCountry::checked("Narnia").is_err());
    }
}

#[cfg(test)]
mod phone_properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever a person types into a phone field is answered, never a
        /// panic, and what is accepted is E.164.
        #[test]
        fn any_typed_number_is_answered(text in "[0-9 ()+.\\-/]{0,40}", country in prop::sample::select(vec!["US", "GB", "DE", "FR", "IN", "AU"])) {
            let country = PhoneCountry::parse(country).unwrap_or_default();
            if let Ok(e164) = phone_number(&text, country) {
                prop_assert!(e164.starts_with('+'));
                prop_assert!(e164[1..].chars().all(|c| c.is_ascii_digit()));
            }
        }
    }
}
