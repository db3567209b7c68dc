//! Searchset Bundles: the page's matches (and includes), the total, and
//! `self` and `next` links. `next` carries a keyset cursor (the last id
//! sent), so paging never skips or repeats a row while others write.

use chrono::Utc;
use serde_json::{json, Value};

use super::request::FhirRequest;

/// One entry of a searchset.
pub(crate) struct Entry {
    pub full_url: String,
    pub resource: Value,
    /// `match`, or `include` for a resource `_include` brought.
    pub mode: &'static str,
}

/// What a search found, ready to be written as a Bundle.
pub(crate) struct Searchset {
    pub resource_type: &'static str,
    /// How many match in all, when that is cheap to know.
    pub total: Option<u64>,
    pub entries: Vec<Entry>,
    /// The id to page on from, when more follow.
    pub next_after: Option<i64>,
}

fn link(base: &str, resource_type: &str, params: &[(String, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let query = query.finish();
    if query.is_empty() {
        format!("{base}/{resource_type}")
    } else {
        format!("{base}/{resource_type}?{query}")
    }
}

/// Where the next page starts: after the last row, when more follow.
pub(crate) fn next_after<T>(
    page: &connecticket_domain::fhir::SearchPage<T>,
    id: impl Fn(&T) -> i64,
) -> Option<i64> {
    page.more.then(|| page.rows.last().map(id)).flatten()
}

impl Searchset {
    /// The Bundle as the search's answer.
    pub(crate) fn answer(self, request: &FhirRequest, base: &str) -> axum::response::Response {
        super::outcome::fhir_json(axum::http::StatusCode::OK, &self.into_bundle(request, base))
    }

    pub(crate) fn into_bundle(self, request: &FhirRequest, base: &str) -> Value {
        let mut links = vec![json!({
            "relation": "self",
            "url": link(base, self.resource_type, &request.params),
        })];
        if let Some(after) = self.next_after {
            let mut params: Vec<(String, String)> = request
                .params
                .iter()
                .filter(|(name, _)| name != "_cursor")
                .cloned()
                .collect();
            params.push(("_cursor".to_owned(), after.to_string()));
            links.push(json!({
                "relation": "next",
                "url": link(base, self.resource_type, &params),
            }));
        }
        let mut bundle = json!({
            "resourceType": "Bundle",
            "meta": {"lastUpdated": super::instant(Utc::now())},
            "type": "searchset",
            "link": links,
        });
        if let Some(total) = self.total {
            bundle["total"] = json!(total);
        }
        if !self.entries.is_empty() {
            bundle["entry"] = self
                .entries
                .into_iter()
                .map(|entry| {
                    json!({
                        "fullUrl": entry.full_url,
                        "resource": entry.resource,
                        "search": {"mode": entry.mode},
                    })
                })
                .collect();
        }
        bundle
    }
}
