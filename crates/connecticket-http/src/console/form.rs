//! What a console page or form sent, as the console reads it: fields in the
//! order sent, names that may repeat (a group of checkboxes), a form's
//! fields only from its body (a page's filters only from its query), and
//! blank meaning unset. The API's parameter rules (a name twice must mean
//! the same, body over query) are the published contract's, not a form's.

use std::collections::BTreeMap;

use crate::error::HttpError;
use crate::wire::FormFields;

/// A page's query, or a form's body.
#[derive(Debug, Default)]
pub(crate) struct Form {
    fields: FormFields,
}

impl Form {
    pub(crate) fn new(fields: FormFields) -> Self {
        Form { fields }
    }

    /// A field of the form's body, as sent.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        first(&self.fields.body, name)
    }

    /// A field's text, empty when it was not sent.
    pub(crate) fn text(&self, name: &str) -> &str {
        self.field(name).unwrap_or_default()
    }

    /// A field's text, `None` when absent or blank.
    pub(crate) fn filled(&self, name: &str) -> Option<&str> {
        self.field(name).filter(|value| !value.trim().is_empty())
    }

    /// Whether a checkbox (`value="1"`) was ticked.
    pub(crate) fn checked(&self, name: &str) -> bool {
        self.field(name) == Some("1")
    }

    /// Every value a name was sent with, in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .body
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A page's filter from the query string, `None` when blank.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        first(&self.fields.query, name).filter(|value| !value.trim().is_empty())
    }

    /// Whether the query names a flag (`?saved`).
    pub(crate) fn query_has(&self, name: &str) -> bool {
        first(&self.fields.query, name).is_some()
    }

    /// A whole number from the query, `None` when blank.
    pub(crate) fn query_number(&self, name: &str) -> Result<Option<i64>, HttpError> {
        self.query(name)
            .map(|text| {
                text.trim()
                    .parse()
                    .map_err(|_| HttpError::InvalidParameter(format!("{name} must be a number")))
            })
            .transpose()
    }

    /// What the person typed, to show again in a form that was refused.
    pub(crate) fn kept(&self) -> Kept {
        let mut kept: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &self.fields.body {
            // The session's token is the page's own, never echoed back.
            if name != "csrf" {
                kept.entry(name.clone()).or_default().push(value.clone());
            }
        }
        Kept::of(kept)
    }
}

fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The values of a refused form, shown again so that nothing typed is
/// lost; empty for a page shown afresh. A page with several forms names
/// each with a hidden `form` field (`add`, `rename-7`), so that only the
/// refused one gets its values back.
#[derive(Debug, Default, Clone)]
pub(crate) struct Kept {
    form: String,
    values: BTreeMap<String, Vec<String>>,
}

impl Kept {
    fn of(values: BTreeMap<String, Vec<String>>) -> Self {
        Kept {
            form: values
                .get("form")
                .and_then(|values| values.first())
                .cloned()
                .unwrap_or_default(),
            values,
        }
    }

    fn first(&self, field: &str) -> Option<&str> {
        self.values
            .get(field)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// Whether some form was refused and named itself.
    pub(crate) fn any(&self) -> bool {
        !self.values.is_empty() && !self.form.is_empty()
    }

    /// Whether `form` is the one that was refused.
    pub(crate) fn is(&self, form: &str) -> bool {
        !self.values.is_empty() && self.form == form
    }

    /// What was typed into `field` of the refused `form`, else empty.
    pub(crate) fn get(&self, form: &str, field: &str) -> &str {
        self.or(form, field, "")
    }

    /// What was typed into `field` if `form` was refused, else `default`
    /// (the stored value the form starts from).
    pub(crate) fn or<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        match self.is(form) {
            true => self.first(field).unwrap_or_default(),
            false => default,
        }
    }

    /// The same for the form of one row (`form` `rename`, row 7:
    /// `rename-7`).
    pub(crate) fn row_or<'a>(
        &'a self,
        form: &str,
        row: &i64,
        field: &str,
        default: &'a str,
    ) -> &'a str {
        self.or(&format!("{form}-{row}"), field, default)
    }

    /// The `index`th value of a repeated `field` (ordered selects) if
    /// the form of this row was refused, else `default`.
    pub(crate) fn nth_row_or<'a>(
        &'a self,
        form: &str,
        row: &i64,
        field: &str,
        index: &usize,
        default: &'a str,
    ) -> &'a str {
        match self.is(&format!("{form}-{row}")) {
            true => self
                .values
                .get(field)
                .and_then(|values| values.get(*index))
                .map_or("", String::as_str),
            false => default,
        }
    }

    /// Every value of a repeated `field` of the refused `form`.
    pub(crate) fn values(&self, form: &str, field: &str) -> Vec<String> {
        match self.is(form) {
            true => self.values.get(field).cloned().unwrap_or_default(),
            false => Vec::new(),
        }
    }

    /// Whether a checkbox was ticked in the refused `form`.
    pub(crate) fn checked(&self, form: &str, field: &str) -> bool {
        self.checked_or(form, field, &false)
    }

    /// Whether the form of one row was the refused one.
    pub(crate) fn is_row(&self, form: &str, row: &i64) -> bool {
        self.is(&format!("{form}-{row}"))
    }

    /// Whether a checkbox was ticked in the refused form of one row, else
    /// `default`.
    pub(crate) fn row_checked_or(
        &self,
        form: &str,
        row: &i64,
        field: &str,
        default: &bool,
    ) -> bool {
        self.checked_or(&format!("{form}-{row}"), field, default)
    }

    /// Whether a checkbox was ticked in the refused `form`, else
    /// `default`.
    pub(crate) fn checked_or(&self, form: &str, field: &str, default: &bool) -> bool {
        match self.is(form) {
            true => self.first(field) == Some("1"),
            false => *default,
        }
    }

    /// Whether a refused `form` ticked `value` among the boxes named
    /// `field`, else `default`.
    pub(crate) fn ticked_or(&self, form: &str, field: &str, value: &str, default: &bool) -> bool {
        match self.is(form) {
            true => self
                .values
                .get(field)
                .is_some_and(|values| values.iter().any(|v| v == value)),
            false => *default,
        }
    }

    /// Whether a refused `form` chose `value` for `field` (a select, a
    /// radio), else whether `value` is `default`.
    pub(crate) fn chose(&self, form: &str, field: &str, value: &str, default: &str) -> bool {
        self.or(form, field, default) == value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &[(&str, &str)]) -> Form {
        Form::new(FormFields {
            query: vec![("saved".to_owned(), String::new())],
            body: body
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        })
    }

    #[test]
    fn a_form_reads_its_body_and_a_page_its_query() {
        let sent = form(&[
            ("csrf", "t"),
            ("name", " "),
            ("role", "family"),
            ("role", "primary_physician"),
            ("sms_consent", "1"),
        ]);
        assert_eq!(sent.filled("name"), None);
        assert_eq!(sent.text("name"), " ");
        assert_eq!(
            sent.all("role").collect::<Vec<_>>(),
            ["family", "primary_physician"]
        );
        assert!(sent.checked("sms_consent") && !sent.checked("email_consent"));
        assert!(sent.query_has("saved") && sent.field("saved").is_none());
        let kept = sent.kept();
        assert!(kept.is(""), "a page's one form needs no name");
        assert_eq!(kept.get("", "role"), "family");
        assert!(kept.ticked_or("", "role", "primary_physician", &false));
        assert!(!kept.ticked_or("", "role", "healthcare_professional", &true));
        assert_eq!(kept.get("", "csrf"), "", "the token is never echoed");
        assert_eq!(Kept::default().or("", "name", "stored"), "stored");
        assert_eq!(kept.or("", "name", "stored"), " ");
        let rename = form(&[("form", "rename-7"), ("name", "Falls!")]).kept();
        assert_eq!(rename.row_or("rename", &7, "name", "Falls"), "Falls!");
        assert_eq!(rename.row_or("rename", &8, "name", "Weight"), "Weight");
        assert_eq!(rename.get("add", "name"), "");
    }
}
