//! Every constraint the server enforces on a parameter, written into the
//! description, so that a client generated from it is refused nothing its
//! schema allows, and allowed nothing the server refuses. The lists (the
//! statuses, urgencies, notification states) come from the domain's own,
//! and the limits from its constants: the description cannot drift from
//! what the parsers accept.
//!
//! The wire's habits are part of it: a blank optional parameter is the
//! same as none, values are trimmed, and names are matched without case.

use connecticket_domain::events::webhooks::MAX_URL_CHARS;
use connecticket_domain::events::{EventKind, MAX_FEED_LIMIT};
use connecticket_domain::notify::NoticeFilter;
use connecticket_domain::service::MAX_NOTE_CHARS;
use connecticket_domain::validate::{
    MAX_COMMENT_TEXT, MAX_IDEMPOTENCY_KEY, MAX_PER_PAGE, MAX_SHORT_TEXT,
};
use connecticket_domain::workflow::{TicketStatus, UrgencyStatus};
use serde_json::{json, Map, Value};

/// One of `words`, any case, with surrounding blanks; `optional`: or blank.
fn words_pattern(words: &[String], optional: bool) -> String {
    let any_case = |word: &str| -> String {
        word.chars()
            .map(|c| match c {
                c if c.is_ascii_alphabetic() => {
                    format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase())
                }
                ' ' => " ".to_owned(),
                c if c.is_ascii_alphanumeric() => c.to_string(),
                c => format!("\\{c}"),
            })
            .collect()
    };
    let alternatives = words
        .iter()
        .map(|word| any_case(word))
        .collect::<Vec<_>>()
        .join("|");
    let optional = if optional { "?" } else { "" };
    format!("^\\s*(?:{alternatives}){optional}\\s*$")
}

/// Text of at most `max` characters without NUL; `required`: not blank.
fn text(max: usize, required: bool) -> Value {
    let pattern = if required {
        "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    } else {
        "^[^\\u0000]*$"
    };
    json!({"type": "string", "maxLength": max, "pattern": pattern})
}

/// A record id: a positive 64-bit integer; `optional`: or blank.
fn id(optional: bool) -> Value {
    let number = json!({"type": "integer", "minimum": 1, "maximum": i64::MAX});
    if optional {
        json!({"anyOf": [number, blank()]})
    } else {
        number
    }
}

/// A blank value: the same as none.
fn blank() -> Value {
    json!({"type": "string", "pattern": "^\\s*$"})
}

fn positive(max: u64) -> Value {
    json!({"anyOf": [{"type": "integer", "minimum": 1, "maximum": max}, blank()]})
}

/// The schema the server holds a query parameter to, by its name.
fn query_schema(name: &str, required: bool) -> Option<Value> {
    let statuses: Vec<String> = TicketStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let urgencies: Vec<String> = UrgencyStatus::ALL
        .iter()
        .map(|u| u.name.to_owned())
        .collect();
    let schema = match name {
        "id" | "ticket_id" | "resident_id" | "notification_id" | "category_id" | "after_id"
        | "from" | "through" => id(!required),
        "after" => json!({"anyOf": [
            {"type": "integer", "minimum": 0, "maximum": i64::MAX}, blank()
        ]}),
        "limit" => positive(u64::from(MAX_FEED_LIMIT)),
        "url" => json!({
            "type": "string", "maxLength": MAX_URL_CHARS,
            "pattern": "^\\s*https://[^\\s/@#?]+([/?][^\\s#]*)?\\s*$"
        }),
        "event_types" => {
            let mut kinds: Vec<String> = EventKind::ALL
                .iter()
                .map(|k| k.as_str().to_owned())
                .collect();
            kinds.push("*".to_owned());
            let one = kinds
                .iter()
                .map(|k| k.replace('.', "\\.").replace('*', "\\*"))
                .collect::<Vec<_>>()
                .join("|");
            json!({"type": "string", "pattern": format!("^[ ,]*(?:(?:{one})(?:[ ,]+(?:{one}))*)?[ ,]*$")})
        }
        "page" => positive(u64::from(u32::MAX)),
        "per_page" => positive(u64::from(MAX_PER_PAGE)),
        "status" | "ticket_status" => {
            json!({"type": "string", "pattern": words_pattern(&statuses, !required)})
        }
        // A name, or the id (which may carry a sign and leading zeros).
        "urgency_status" => json!({"type": "string", "pattern": format!(
            "{}|^\\s*\\+?0*[1-5]\\s*$",
            words_pattern(&urgencies, true)
        )}),
        "state" => {
            let states: Vec<String> = NoticeFilter::SPELLINGS
                .split(", ")
                .map(str::to_owned)
                .collect();
            json!({"type": "string", "pattern": words_pattern(&states, true)})
        }
        "email" | "sms" | "sent_to_family" | "sent_to_primary" | "sent_to_healthcare_pro" => {
            let words: Vec<String> = ["true", "false", "1", "0", "yes", "no", "on", "off"]
                .map(str::to_owned)
                .to_vec();
            json!({"type": "string", "pattern": words_pattern(&words, true)})
        }
        "title" => text(MAX_SHORT_TEXT, true),
        "ticket_type" => text(MAX_SHORT_TEXT, false),
        "comment" => text(MAX_COMMENT_TEXT, true),
        "general_comments" => text(MAX_COMMENT_TEXT, false),
        "note" => text(MAX_NOTE_CHARS, true),
        "start_date" | "end_date" => {
            json!({"anyOf": [{"type": "string", "format": "date"}, blank()]})
        }
        "updated_since" => {
            json!({"anyOf": [{"type": "string", "format": "date-time"}, blank()]})
        }
        _ => return None,
    };
    Some(schema)
}

/// Applies the server's constraints to every parameter of `doc`, and adds
/// the answers any call may get: 429 and 503 (with `Retry-After`), from
/// the server's budgets and throttles, and 431 for a head too large.
pub(super) fn apply(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut operation_ids = std::collections::BTreeSet::new();
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            // One description serves a call by two methods (`GET` as the
            // published reference spells it): each gets an id of its own.
            if let Some(Value::String(id)) = operation.get_mut("operationId") {
                if !operation_ids.insert(id.clone()) {
                    id.push_str(&format!("_by_{method}"));
                }
            }
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                for parameter in parameters.iter_mut() {
                    constrain(path, parameter);
                }
            }
            if let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            {
                busy_answers(responses);
            }
        }
    }
}

fn constrain(path: &str, parameter: &mut Value) {
    let name = parameter["name"].as_str().unwrap_or_default().to_owned();
    let place = parameter["in"].as_str().unwrap_or_default().to_owned();
    let required = parameter["required"].as_bool().unwrap_or(false);
    let schema = match place.as_str() {
        "query" => query_schema(&name, required),
        "path"
            if name == "id" && (path.contains("/attachments/") || path.contains("/webhooks/")) =>
        {
            Some(id(false))
        }
        "header" if name == "Idempotency-Key" => Some(json!({
            "type": "string",
            "pattern": format!("^[\\u0021-\\u007e][\\u0020-\\u007e]{{0,{}}}$", MAX_IDEMPOTENCY_KEY - 1)
        })),
        _ => None,
    };
    if let Some(schema) = schema {
        parameter["schema"] = schema;
    }
}

fn busy_answers(responses: &mut Map<String, Value>) {
    let failure = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Failure"}}});
    let retry_after =
        json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}});
    responses.entry("429").or_insert_with(|| {
        json!({
            "description": "Too many requests, or too many in flight, from this client; see Retry-After",
            "headers": retry_after,
            "content": failure,
        })
    });
    // Beyond twice the header limit the HTTP layer answers by itself,
    // without a body (docs/API-DECISIONS.md, "Answered by the HTTP
    // library"); below it, in the envelope.
    responses.entry("431").or_insert_with(|| {
        json!({
            "description": "The request's head (its address included) is larger than the server takes",
        })
    });
    responses.entry("503").or_insert_with(|| {
        json!({
            "description": "The server is at its limit for now, or its database is unreachable (a failover); see Retry-After. With `Connecticket-Write-Outcome: unknown`, a write's commit went unanswered: it may have been saved, so retry with the same Idempotency-Key",
            "headers": retry_after,
            "content": failure,
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|parameters| parameters.iter().find(|p| p["name"] == name))
            .map_or(&Value::Null, |p| &p["schema"])
    }

    #[test]
    fn the_description_states_what_the_server_enforces() {
        let doc: Value = serde_json::from_str(&super::super::document()).expect("json");
        let id = parameter(&doc, "/api/{token}/ticket_detail", "get", "id");
        assert_eq!(id["minimum"], 1);
        let page = parameter(&doc, "/api/{token}/tickets", "get", "per_page");
        assert_eq!(page["anyOf"][0]["maximum"], u64::from(MAX_PER_PAGE));
        let note = parameter(&doc, "/api/{token}/acknowledge", "post", "note");
        assert_eq!(note["maxLength"], MAX_NOTE_CHARS);
        assert!(note["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("[^\\s")));
        let status = parameter(&doc, "/api/{token}/update_status", "post", "status");
        let pattern = status["pattern"].as_str().expect("pattern");
        assert!(
            pattern.contains("[iI][nN] [pP][rR][oO][gG][rR][eE][sS][sS]"),
            "{pattern}"
        );
        for (path, method) in [
            ("/api/{token}/tickets", "get"),
            ("/api/authorize", "post"),
            ("/ack/{token}", "get"),
        ] {
            let responses = &doc["paths"][path][method]["responses"];
            assert!(
                responses.get("429").is_some() && responses.get("503").is_some(),
                "{path}"
            );
        }
    }

    #[test]
    fn a_word_list_matches_any_case_with_blanks_around() {
        let pattern = words_pattern(&["In Progress".to_owned(), "New".to_owned()], false);
        assert_eq!(
            pattern,
            "^\\s*(?:[iI][nN] [pP][rR][oO][gG][rR][eE][sS][sS]|[nN][eE][wW])\\s*$"
        );
        assert!(words_pattern(&["1".to_owned()], true).ends_with(")?\\s*$"));
    }
}
