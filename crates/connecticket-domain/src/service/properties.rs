//! Property tests over the domain's parameter rules: `category_<id>` keys,
//! ratings, booleans and dates. Whatever the client sends, `create_ticket`'s
//! parsing answers a ticket or an error naming a parameter, never a panic.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::ticket_input::parse_new_ticket;
use crate::auth::Principal;
use crate::error::DomainError;
use crate::model::{Provider, ProviderId};
use crate::params::{parse_bool, RequestParams};
use crate::time::{format_date, parse_date};
use crate::workflow::CategoryRating;

fn principal() -> Principal {
    Principal {
        provider: Provider {
            id: ProviderId(1),
            name: "P".to_owned(),
            time_zone: "UTC".to_owned(),
            created_at: crate::time::now(),
        },
        application_id: 1,
        employee_id: 1,
        token_id: 1,
    }
}

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
        let ticket = parse_new_ticket(&params, &principal(), crate::time::now()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected: Vec<_> = ratings.iter().map(|(id, (rating, _))| (*id, *rating)).collect();
        prop_assert_eq!(ticket.ratings, expected);
    }

    #[test]
    fn any_parameters_give_a_ticket_or_a_named_error(
        pairs in prop::collection::vec(("(title|resident_id|sms|email|state|start_date|end_date|urgency_status|ticket_status|category_[0-9a-z]{0,4}|category_comments_[0-9]{0,3})", "\\PC{0,12}"), 0..10)
    ) {
        let mut params = RequestParams::default();
        for (name, value) in &pairs {
            let _ = params.insert(name, value.clone());
        }
        match parse_new_ticket(&params, &principal(), crate::time::now()) {
            Ok(ticket) => prop_assert!(!ticket.title.trim().is_empty()),
            Err(DomainError::InvalidParameter(message)) => prop_assert!(!message.is_empty()),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn booleans_parse_or_name_the_parameter(text in "\\PC{0,10}") {
        match parse_bool("sms", Some(&text)) {
            Ok(_) => {}
            Err(error) => prop_assert!(error.to_string().starts_with("sms must be a boolean")),
        }
    }

    #[test]
    fn dates_round_trip(days in 0i64..200_000) {
        let date = NaiveDate::from_ymd_opt(1900, 1, 1).and_then(|d| d.checked_add_signed(chrono::Duration::days(days)));
        if let Some(date) = date {
            prop_assert_eq!(parse_date(&format_date(date)), Some(date));
            prop_assert_eq!(parse_date(&date.format("%Y-%m-%d").to_string()), Some(date));
        }
    }

    #[test]
    fn arbitrary_date_text_never_panics(text in "\\PC{0,16}") {
        let _ = parse_date(&text);
    }
}
