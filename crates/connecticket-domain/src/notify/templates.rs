//! A provider's own wording. A template may use only the placeholders
//! that carry no clinical detail, `{resident}` (first name and last
//! initial), `{provider}` and `{callback}` (the number to call, or the
//! provider's name), and is checked when it is saved, never when a
//! message is due.

use crate::error::{DomainError, DomainResult, Field, Problem};

/// The sample a preview fills placeholders with: no one's real data.
pub const PREVIEW_RESIDENT: &str = "Jane D.";

/// Checks each part that is set, as saving would.
pub fn check_all(templates: Templates) -> DomainResult<Templates> {
    let check = |part, text: Option<String>| text.map(|t| check(part, &t)).transpose();
    Ok(Templates {
        sms: check(Part::Sms, templates.sms)?,
        email_subject: check(Part::EmailSubject, templates.email_subject)?,
        email_body: check(Part::EmailBody, templates.email_body)?,
    })
}

/// Every placeholder a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["resident", "provider", "callback"];

/// Each part left unset keeps the default wording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates {
    pub sms: Option<String>,
    pub email_subject: Option<String>,
    pub email_body: Option<String>,
}

/// What a template part may hold.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Sms,
    EmailSubject,
    EmailBody,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Sms => "the SMS template",
            Part::EmailSubject => "the email subject template",
            Part::EmailBody => "the email body template",
        }
    }

    fn max_chars(self) -> usize {
        match self {
            // Two SMS segments.
            Part::Sms => 306,
            Part::EmailSubject => 200,
            Part::EmailBody => 4000,
        }
    }
}

fn refuse(part: Part, why: String) -> DomainError {
    DomainError::invalid(
        Field::Template,
        Problem::Rule(format!("{} {why}", part.name())),
    )
}

/// Checks a template: not blank, not too long, no line breaks in an SMS or
/// subject, and only known placeholders in well-formed braces.
pub fn check(part: Part, text: &str) -> DomainResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(refuse(part, "must not be blank".to_owned()));
    }
    if text.chars().count() > part.max_chars() {
        return Err(refuse(
            part,
            format!("must be at most {} characters", part.max_chars()),
        ));
    }
    let single_line = matches!(part, Part::Sms | Part::EmailSubject);
    if text
        .chars()
        .any(|c| c.is_control() && (single_line || !matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(refuse(
            part,
            "must not contain control characters or line breaks".to_owned(),
        ));
    }
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(refuse(part, "has a '}' without its '{'".to_owned()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(refuse(part, "has a '{' without its '}'".to_owned()));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(refuse(
                part,
                format!(
                    "uses {{{name}}}; the placeholders are {{resident}}, {{provider}} and {{callback}}"
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(text.to_owned())
}

/// Fills a checked template.
pub fn fill(template: &str, resident: &str, provider: &str, callback: &str) -> String {
    // "Greta O." ends a sentence by itself: "{resident}." must not read
    // "Greta O..".
    let sentence_end = if resident.ends_with('.') {
        resident.to_owned()
    } else {
        format!("{resident}.")
    };
    template
        .replace("{resident}.", &sentence_end)
        .replace("{resident}", resident)
        .replace("{provider}", provider)
        .replace("{callback}", callback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_ending_a_sentence_keeps_one_period() {
        assert_eq!(
            fill(
                "News about {resident}. Call {callback}.",
                "Jane D.",
                "P",
                "555"
            ),
            "News about Jane D. Call 555."
        );
        assert_eq!(fill("About {resident}.", "Jane", "P", "555"), "About Jane.");
        assert_eq!(
            fill("{resident}, {provider}", "Jane D.", "P", "555"),
            "Jane D., P"
        );
    }

    #[test]
    fn templates_use_only_known_placeholders_and_fit_their_channel() {
        assert_eq!(
            check(
                Part::Sms,
                " {provider}: news about {resident}. Call {callback}. "
            )
            .ok()
            .as_deref(),
            Some("{provider}: news about {resident}. Call {callback}.")
        );
        for (part, bad, why) in [
            (Part::Sms, "   ", "must not be blank"),
            (Part::Sms, "About {title}", "uses {title}"),
            (Part::Sms, "About {resident", "without its '}'"),
            (Part::Sms, "About resident}", "without its '{'"),
            (Part::EmailSubject, "Line\nbreak", "line breaks"),
        ] {
            let error = check(part, bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(why), "{bad:?}: {error}");
        }
        assert!(check(Part::EmailBody, "Dear family,\r\n\r\n{resident} …").is_ok());
        assert!(check(Part::Sms, &"x".repeat(307)).is_err());
        assert_eq!(
            fill(
                "{provider}: {resident} ({callback})",
                "Greta O.",
                "Maple",
                "+1555"
            ),
            "Maple: Greta O. (+1555)"
        );
    }
}
