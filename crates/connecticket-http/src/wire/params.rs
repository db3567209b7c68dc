//! Request parameters as the published API sends them: names mapped to
//! UTF-8 text, plus uploaded files, from the query string and whichever
//! body the client chose. A body parameter wins over a query parameter of
//! the same name.

use std::collections::BTreeMap;

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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    values: BTreeMap<String, String>,
    pub files: Vec<FilePart>,
}

impl RequestParams {
    /// Sets a parameter; a later value for the same name replaces an earlier
    /// one, which is how a body parameter wins over the query string.
    pub fn insert(&mut self, name: &str, value: String) -> Result<(), HttpError> {
        if name.contains('\0') || value.contains('\0') {
            return Err(HttpError::InvalidParameter(format!(
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
