//! Request parameters as the published API sends them: names mapped to
//! UTF-8 text, plus uploaded files, from the query string and whichever
//! body the client chose. A body parameter wins over a query parameter of
//! the same name; within one source, a name given twice must mean the same.
//! The count and total size of parameters are capped as they are read, so
//! no shape of body makes a request cost more than its bytes.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use connecticket_domain::text::printable;

/// A file part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePart {
    pub field: String,
    pub file_name: String,
    pub content_type: String,
    pub data: Bytes,
}

/// How many parameters a request may carry, and how much text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamLimits {
    pub max_params: usize,
    pub max_bytes: usize,
}

impl Default for ParamLimits {
    fn default() -> Self {
        ParamLimits {
            max_params: 1_000,
            max_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    values: BTreeMap<String, String>,
    pub files: Vec<FilePart>,
    limits: ParamLimits,
    /// Parameters and text bytes seen so far, every source together.
    count: usize,
    bytes: usize,
    /// The names the current source (the query, or the body) has given.
    this_source: HashSet<String>,
    /// Whether the current source is the body (after the query string).
    in_body: bool,
}

impl RequestParams {
    pub fn with_limits(limits: ParamLimits) -> Self {
        RequestParams {
            limits,
            ..RequestParams::default()
        }
    }

    /// Starts the next source (the body after the query string): its
    /// values replace the earlier source's.
    pub fn begin_source(&mut self) {
        self.this_source.clear();
        self.in_body = true;
    }

    /// Counts one more parameter (or file part) against the limits.
    pub(crate) fn count(&mut self, bytes: usize) -> Result<(), HttpError> {
        self.count += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.count > self.limits.max_params {
            return Err(HttpError::InvalidParameter(format!(
                "too many parameters; at most {} per request",
                self.limits.max_params
            )));
        }
        if self.bytes > self.limits.max_bytes {
            return Err(HttpError::PayloadTooLarge(format!(
                "the parameters are larger than the limit of {} bytes in total",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }

    /// Sets a parameter. A later source's value replaces an earlier one's;
    /// within one source the same name twice must carry the same value.
    pub fn insert(&mut self, name: &str, value: String) -> Result<(), HttpError> {
        self.count(name.len() + value.len())?;
        if name.contains('\0') || value.contains('\0') {
            return Err(HttpError::InvalidParameter(format!(
                "{} must not contain NUL characters",
                printable(name)
            )));
        }
        if !self.this_source.insert(name.to_owned())
            && self
                .values
                .get(name)
                .is_some_and(|earlier| *earlier != value)
        {
            return Err(HttpError::InvalidParameter(format!(
                "{} is given twice with different values",
                printable(name)
            )));
        }
        self.values.insert(name.to_owned(), value);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value only if the body gave it: a secret such as a CSRF token
    /// must never be taken from the query string, which lands in logs,
    /// histories and `Referer` headers.
    pub fn from_body(&self, name: &str) -> Option<&str> {
        match self.in_body && self.this_source.contains(name) {
            true => self.get(name),
            false => None,
        }
    }

    /// The value, or `None` when absent or only whitespace.
    pub fn non_blank(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.trim().is_empty())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A digest of everything the client sent to `call`, so that a retry
    /// with an `Idempotency-Key` can be told apart from another request.
    pub fn fingerprint(&self, call: &str) -> Vec<u8> {
        let mut digest = Sha256::new();
        let mut field = |bytes: &[u8]| {
            digest.update((bytes.len() as u64).to_be_bytes());
            digest.update(bytes);
        };
        field(call.as_bytes());
        for (name, value) in &self.values {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        for file in &self.files {
            field(file.field.as_bytes());
            field(file.file_name.as_bytes());
            field(file.content_type.as_bytes());
            field(&Sha256::digest(&file.data));
        }
        digest.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_and_a_later_source_wins() {
        let mut params = RequestParams::default();
        assert!(params.insert("title", "a\0b".into()).is_err());
        params.insert("title", "query".into()).expect("ok");
        params.begin_source();
        params.insert("title", "body".into()).expect("ok");
        assert_eq!(params.get("title"), Some("body"));
    }

    #[test]
    fn one_source_may_not_contradict_itself() {
        let mut params = RequestParams::default();
        params.insert("category_19", "Issue".into()).expect("first");
        params
            .insert("category_19", "Issue".into())
            .expect("the same again");
        let error = params
            .insert("category_19", "No Issue".into())
            .expect_err("contradiction");
        assert_eq!(
            error.to_string(),
            "category_19 is given twice with different values"
        );
    }

    #[test]
    fn count_and_size_are_capped() {
        let mut params = RequestParams::with_limits(ParamLimits {
            max_params: 2,
            max_bytes: 10,
        });
        params.insert("a", "1".into()).expect("one");
        params.insert("b", "2".into()).expect("two");
        let error = params.insert("c", "3".into()).expect_err("three");
        assert_eq!(
            error.to_string(),
            "too many parameters; at most 2 per request"
        );
        let mut params = RequestParams::with_limits(ParamLimits {
            max_params: 10,
            max_bytes: 10,
        });
        let error = params.insert("title", "x".repeat(20)).expect_err("large");
        assert!(matches!(error, HttpError::PayloadTooLarge(_)));
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
