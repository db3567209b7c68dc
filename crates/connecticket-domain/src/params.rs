//! Request parameters as the domain sees them: names mapped to UTF-8 text,
//! plus uploaded files. The HTTP layer fills this from the query string and
//! whichever body the client sent; the parsers here turn text into values and
//! name the parameter in every error.

use std::collections::BTreeMap;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::{DomainError, DomainResult};

#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub field: String,
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    values: BTreeMap<String, String>,
    pub files: Vec<Upload>,
}

impl RequestParams {
    /// Sets a parameter; a later value for the same name replaces an earlier
    /// one, which is how a body parameter wins over the query string.
    pub fn insert(&mut self, name: &str, value: String) -> DomainResult<()> {
        if name.contains('\0') || value.contains('\0') {
            return Err(DomainError::invalid(format!(
                "{} must not contain NUL characters",
                printable(name)
            )));
        }
        self.values.insert(name.to_owned(), value);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value, or `None` when absent or only whitespace.
    pub fn non_blank(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.trim().is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A digest of everything the client sent for `action`, so that a retry
    /// with an `Idempotency-Key` can be told apart from a different request.
    pub fn fingerprint(&self, action: &str) -> Vec<u8> {
        let mut digest = Sha256::new();
        let mut field = |bytes: &[u8]| {
            digest.update((bytes.len() as u64).to_be_bytes());
            digest.update(bytes);
        };
        field(action.as_bytes());
        for (name, value) in &self.values {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        for upload in &self.files {
            field(upload.field.as_bytes());
            field(upload.file_name.as_bytes());
            field(upload.content_type.as_bytes());
            field(&Sha256::digest(&upload.data));
        }
        digest.finalize().to_vec()
    }
}

/// Parameter names come from the client: show them short and printable.
pub fn printable(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    clean
}

/// `true/false`, `1/0`, `yes/no`, `on/off`, any case; blank means absent.
pub fn parse_bool(name: &str, value: Option<&str>) -> DomainResult<Option<bool>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(Some(true)),
        "false" | "0" | "no" | "off" => Ok(Some(false)),
        _ => Err(DomainError::invalid(format!(
            "{name} must be a boolean (true/false, 1/0, yes/no, on/off)"
        ))),
    }
}

/// A record id: a positive integer that fits the store's 64-bit ids.
pub fn parse_id(name: &str, value: &str) -> DomainResult<i64> {
    match value.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(DomainError::invalid(format!(
            "{} must be a positive integer id",
            printable(name)
        ))),
    }
}

pub fn required_id(params: &RequestParams, name: &str) -> DomainResult<i64> {
    match params.non_blank(name) {
        Some(value) => parse_id(name, value),
        None => Err(DomainError::invalid(format!("{name} required"))),
    }
}

pub fn optional_id(params: &RequestParams, name: &str) -> DomainResult<Option<i64>> {
    params
        .non_blank(name)
        .map(|value| parse_id(name, value))
        .transpose()
}

/// Rejects text longer than `max` characters, naming the parameter.
pub fn check_length(name: &str, value: &str, max: usize) -> DomainResult<()> {
    if value.chars().count() > max {
        return Err(DomainError::invalid(format!(
            "{} must be at most {max} characters",
            printable(name)
        )));
    }
    Ok(())
}

/// Optional text: absent or blank is `None`.
pub fn optional_text(
    params: &RequestParams,
    name: &str,
    max: usize,
) -> DomainResult<Option<String>> {
    match params.non_blank(name) {
        Some(value) => {
            check_length(name, value, max)?;
            Ok(Some(value.to_owned()))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_the_documented_spellings() {
        for yes in ["true", "TRUE", "1", "yes", "On"] {
            assert_eq!(parse_bool("sms", Some(yes)).ok(), Some(Some(true)), "{yes}");
        }
        for no in ["false", "0", "NO", "off"] {
            assert_eq!(parse_bool("sms", Some(no)).ok(), Some(Some(false)), "{no}");
        }
        assert_eq!(parse_bool("sms", Some(" ")).ok(), Some(None));
        let error = parse_bool("sms", Some("maybe")).expect_err("refused");
        assert!(error.to_string().starts_with("sms must be a boolean"));
    }

    #[test]
    fn ids_must_be_positive_and_in_range() {
        assert_eq!(parse_id("id", " 42 ").ok(), Some(42));
        for bad in ["0", "-1", "abc", "99999999999999999999", "1.5"] {
            let error = parse_id("id", bad).expect_err(bad);
            assert_eq!(error.to_string(), "id must be a positive integer id");
        }
    }

    #[test]
    fn nul_is_refused_and_later_values_win() {
        let mut params = RequestParams::default();
        assert!(params.insert("title", "a\0b".into()).is_err());
        params.insert("title", "query".into()).expect("ok");
        params.insert("title", "body".into()).expect("ok");
        assert_eq!(params.get("title"), Some("body"));
    }

    #[test]
    fn fingerprint_changes_with_any_parameter() {
        let mut one = RequestParams::default();
        one.insert("title", "Fall".into()).expect("ok");
        let mut two = one.clone();
        assert_eq!(
            one.fingerprint("create_ticket"),
            two.fingerprint("create_ticket")
        );
        two.insert("sms", "1".into()).expect("ok");
        assert_ne!(
            one.fingerprint("create_ticket"),
            two.fingerprint("create_ticket")
        );
        assert_ne!(
            one.fingerprint("create_ticket"),
            one.fingerprint("create_comment")
        );
    }
}
