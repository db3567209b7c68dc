//! Property tests (a bounded fuzz run in every `cargo test`) over the
//! request-parameter parsers: whatever bytes arrive, parsing answers a
//! value or a clean error and never panics, and well-formed input comes
//! back exactly as sent. `PROPTEST_CASES=100000 cargo test -p
//! connecticket-http properties` runs them much longer.

use axum::body::Body;
use proptest::prelude::*;

use super::body::{read_json, read_multipart};
use super::params::RequestParams;
use super::urlencoded::parse_into;
use crate::error::HttpError;
use crate::state::Limits;

/// Errors a parser may give: anything else (or a panic) is a bug.
fn is_client_error(error: &HttpError) -> bool {
    matches!(
        error,
        HttpError::MalformedBody(_)
            | HttpError::PayloadTooLarge(_)
            | HttpError::InvalidParameter(_)
    )
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,12}",
        (1u64..1_000_000).prop_map(|id| format!("category_{id}")),
        (1u64..1_000_000).prop_map(|id| format!("category_comments_{id}")),
        "\\PC{1,8}",
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|error| panic!("runtime: {error}"))
}

proptest! {
    #[test]
    fn urlencoded_round_trips_any_text(pairs in prop::collection::btree_map(name(), "[^\u{0}]{0,40}", 0..8)) {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut params = RequestParams::default();
        parse_into(body.as_bytes(), &mut params).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (key, value) in &pairs {
            prop_assert_eq!(params.get(key), Some(value.as_str()));
        }
    }

    #[test]
    fn urlencoded_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut params = RequestParams::default();
        if let Err(error) = parse_into(&bytes, &mut params) {
            prop_assert!(is_client_error(&error), "{error:?}");
        }
    }

    #[test]
    fn json_scalars_become_their_text(pairs in prop::collection::btree_map("[a-z_]{1,10}", prop_oneof![
        "[^\u{0}]{0,20}".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
    ], 0..8)) {
        let body = serde_json::to_vec(&pairs).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut params = RequestParams::default();
        read_json(&body, &mut params).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (key, value) in &pairs {
            let expected = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            prop_assert_eq!(params.get(key), Some(expected.as_str()));
        }
    }

    #[test]
    fn json_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut params = RequestParams::default();
        if let Err(error) = read_json(&bytes, &mut params) {
            prop_assert!(is_client_error(&error), "{error:?}");
        }
    }

    #[test]
    fn multipart_round_trips_fields_and_files(
        fields in prop::collection::btree_map("[a-z_]{1,10}", "[^\u{0}\r\n]{0,30}", 0..5),
        files in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..3),
    ) {
        let boundary = "XyZzy1234boundary";
        let mut body = Vec::new();
        for (key, value) in &fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        for (n, file) in files.iter().enumerate() {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachment_{n}\"; filename=\"f{n}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(file);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let mut params = RequestParams::default();
        let content_type = format!("multipart/form-data; boundary={boundary}");
        runtime()
            .block_on(read_multipart(Body::from(body), &content_type, Limits::default(), &mut params))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (key, value) in &fields {
            prop_assert_eq!(params.get(key), Some(value.as_str()));
        }
        prop_assert_eq!(params.files.len(), files.len());
        for (upload, file) in params.files.iter().zip(&files) {
            prop_assert_eq!(upload.data.as_ref(), file.as_slice());
        }
    }

    #[test]
    fn multipart_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut body = b"--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n".to_vec();
        body.extend_from_slice(&bytes);
        let mut params = RequestParams::default();
        let parsed = runtime().block_on(read_multipart(Body::from(body), "multipart/form-data; boundary=B", Limits::default(), &mut params));
        if let Err(error) = parsed {
            prop_assert!(is_client_error(&error), "{error:?}");
        }
    }
}

/// `create_ticket`'s parameters: whatever a client sends, parsing answers a
/// command or an error naming a parameter, never a panic.
mod commands {
    use connecticket_domain::model::CategoryId;
    use connecticket_domain::workflow::CategoryRating;
    use proptest::prelude::*;

    use crate::error::HttpError;
    use crate::wire::commands::raise_ticket;
    use crate::wire::params::RequestParams;

    fn rating_text() -> impl Strategy<Value = (CategoryRating, String)> {
        (
            prop::sample::select(CategoryRating::ALL.to_vec()),
            "[ ]{0,2}",
            any::<bool>(),
        )
            .prop_map(|(rating, pad, upper)| {
                let text = if upper {
                    rating.as_str().to_uppercase()
                } else {
                    rating.as_str().to_lowercase()
                };
                (rating, format!("{pad}{text}{pad}"))
            })
    }

    proptest! {
        #[test]
        fn category_ratings_are_parsed_for_any_valid_ids(ratings in prop::collection::btree_map(1i64..i64::MAX, rating_text(), 0..6)) {
            let mut params = RequestParams::default();
            params.insert("title", "t".into()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            params.insert("resident_id", "7".into()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (id, (_, text)) in &ratings {
                params.insert(&format!("category_{id}"), text.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            let command = raise_ticket(params).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected: Vec<_> = ratings.iter().map(|(id, (rating, _))| (CategoryId(*id), *rating)).collect();
            let parsed: Vec<_> = command.ratings.into_iter().collect();
            prop_assert_eq!(parsed, expected);
        }

        #[test]
        fn any_parameters_give_a_command_or_a_named_error(
            pairs in prop::collection::vec(("(title|regarding|resident_id|sms|email|state|start_date|end_date|urgency_status|ticket_status|sentsent_to_primary|category_[0-9a-z]{0,4}|category_comments_[0-9]{0,3})", "\\PC{0,12}"), 0..10)
        ) {
            let mut params = RequestParams::default();
            for (name, value) in &pairs {
                let _ = params.insert(name, value.clone());
            }
            match raise_ticket(params) {
                Ok(command) => prop_assert!(!command.title.trim().is_empty()),
                Err(HttpError::InvalidParameter(message)) => prop_assert!(!message.is_empty()),
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }
}

/// Issue 8's shapes: parameter floods and ids that alias each other.
mod floods_and_aliases {
    use proptest::prelude::*;

    use crate::error::HttpError;
    use crate::wire::commands::raise_ticket;
    use crate::wire::params::{ParamLimits, RequestParams};
    use crate::wire::urlencoded::parse_into;

    proptest! {
        #[test]
        fn a_flood_is_refused_exactly_beyond_the_cap(count in 0usize..2_500) {
            let body = (0..count).map(|n| format!("k{n}=v")).collect::<Vec<_>>().join("&");
            let mut params = RequestParams::with_limits(ParamLimits { max_params: 1_000, max_bytes: 1 << 20 });
            match parse_into(body.as_bytes(), &mut params) {
                Ok(()) => prop_assert!(count <= 1_000),
                Err(HttpError::InvalidParameter(message)) => {
                    prop_assert!(count > 1_000);
                    prop_assert_eq!(message, "too many parameters; at most 1000 per request");
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }

        #[test]
        fn every_other_spelling_of_an_id_is_refused(
            id in 1u32..100_000,
            zeros in 0usize..3,
            plus in any::<bool>(),
            before in "[ \t]{0,2}",
            after in "[ \t]{0,2}",
            comment in any::<bool>(),
        ) {
            let digits = format!("{before}{}{}{id}{after}", if plus { "+" } else { "" }, "0".repeat(zeros));
            let prefix = if comment { "category_comments_" } else { "category_" };
            let name = format!("{prefix}{digits}");
            let mut params = RequestParams::default();
            for (key, value) in [("title", "t"), ("resident_id", "7"), (name.as_str(), "Issue")] {
                params.insert(key, value.to_owned()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            }
            let canonical = digits == id.to_string();
            match raise_ticket(params) {
                Ok(_) => prop_assert!(canonical, "{name:?} was accepted"),
                Err(HttpError::InvalidParameter(message)) => {
                    prop_assert!(!canonical, "{name:?} was refused: {message}");
                    prop_assert!(message.ends_with("must be written with a plain decimal id, like category_19"), "{message}");
                }
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
