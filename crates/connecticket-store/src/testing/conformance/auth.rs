//! Credentials, tokens and authorize-failure counters.

use chrono::Duration;
use connecticket_domain::auth::NewAccessToken;
use connecticket_domain::model::AccessTokenId;
use connecticket_domain::store::Store;

use super::fixtures::{t0, tenant, Fixture, Tenant};

pub(super) async fn token(store: &dyn Store, tenant: &Tenant, hash: &[u8]) -> AccessTokenId {
    store
        .insert_access_token(
            NewAccessToken {
                application_id: tenant.application.id,
                token_hash: hash.to_vec(),
                created_at: t0(),
                expires_at: t0() + Duration::hours(24),
            },
            100,
        )
        .await
        .expect("token")
}

pub async fn an_application_is_found_by_key_with_its_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let found = store
        .application_by_key(a.application.api_key.clone())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.application_id, a.application.id);
    assert_eq!(found.provider, a.provider);
    assert_eq!(found.employee_id, a.employee.id);
    assert_eq!(found.secret_hash, vec![1, 2, 3]);
    assert!(!found.revoked);
    assert!(store
        .application_by_key("no-such-key".to_owned())
        .await
        .expect("lookup")
        .is_none());
}

pub async fn a_token_is_found_by_its_hash_with_its_application(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let first = token(store, &a, b"hash-a").await;
    let second = token(store, &b, b"hash-b").await;
    assert_ne!(first, second);
    let found = store
        .access_token(b"hash-a".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.token_id, first);
    assert_eq!(found.expires_at, t0() + Duration::hours(24));
    assert!(!found.revoked);
    assert_eq!(found.application.provider.id, a.provider.id);
    assert!(store
        .access_token(b"unknown".to_vec())
        .await
        .expect("lookup")
        .is_none());
}

pub async fn authorize_failures_are_counted_per_scope_and_window(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let scopes = vec!["addr:1".to_owned(), "key:k@1".to_owned()];
    let claimed = store
        .claim_auth_attempt(scopes.clone(), 900)
        .await
        .expect("claim");
    assert_eq!(claimed, vec![1, 1], "each scope's count with this attempt");
    let claimed = store
        .claim_auth_attempt(vec!["addr:1".to_owned()], 900)
        .await
        .expect("claim");
    assert_eq!(claimed, vec![2]);
    let counts = store
        .auth_failures(scopes.clone(), 900)
        .await
        .expect("count");
    assert_eq!(counts, vec![2, 1]);
    assert_eq!(
        store
            .auth_failures(scopes.clone(), 1_800)
            .await
            .expect("other window"),
        vec![0, 0]
    );
    // A success is taken back; a count never goes below zero.
    store
        .forgive_auth_attempt(scopes.clone(), 900)
        .await
        .expect("forgive");
    store
        .forgive_auth_attempt(scopes.clone(), 900)
        .await
        .expect("forgive");
    assert_eq!(
        store
            .auth_failures(scopes.clone(), 900)
            .await
            .expect("count"),
        vec![0, 0]
    );
    // Counting in a later window forgets the older ones.
    store
        .claim_auth_attempt(vec!["addr:1".to_owned()], 900)
        .await
        .expect("claim");
    store
        .claim_auth_attempt(vec!["addr:2".to_owned()], 1_800)
        .await
        .expect("claim");
    assert_eq!(
        store
            .auth_failures(scopes.clone(), 900)
            .await
            .expect("forgotten"),
        vec![0, 0]
    );
}

/// Attempts are counted before they are checked, atomically: a burst of
/// concurrent attempts each sees a count of its own, so a limit holds
/// however many arrive at once.
pub async fn concurrent_attempts_each_see_the_ones_before(fixture: Fixture) {
    let store = fixture.store;
    let claims: Vec<_> = (0..24)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .claim_auth_attempt(vec!["addr:burst".to_owned(), "account:a".to_owned()], 900)
                    .await
                    .expect("claim")
            })
        })
        .collect();
    let mut seen = Vec::new();
    for claim in claims {
        let counts = claim.await.expect("task");
        assert_eq!(counts[0], counts[1], "both scopes counted together");
        seen.push(counts[0]);
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=24).collect::<Vec<u64>>());
}

pub async fn an_application_keeps_its_newest_live_tokens_only(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let other = token(store, &b, b"b-token").await;
    let mut made = Vec::new();
    for n in 0..4u8 {
        let id = store
            .insert_access_token(
                NewAccessToken {
                    application_id: a.application.id,
                    token_hash: vec![n; 8],
                    created_at: t0(),
                    expires_at: t0() + Duration::hours(1),
                },
                2,
            )
            .await
            .expect("token");
        made.push(id);
    }
    let revoked: Vec<bool> = {
        let mut revoked = Vec::new();
        for n in 0..4u8 {
            let found = store
                .access_token(vec![n; 8])
                .await
                .expect("lookup")
                .expect("found");
            revoked.push(found.revoked);
        }
        revoked
    };
    assert_eq!(
        revoked,
        vec![true, true, false, false],
        "the two newest stay live"
    );
    let b_token = store
        .access_token(b"b-token".to_vec())
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(b_token.token_id, other);
    assert!(
        !b_token.revoked,
        "another application's tokens are untouched"
    );
}
