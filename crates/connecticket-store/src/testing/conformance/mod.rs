//! The store conformance suite: what every implementation of the storage
//! interface must do, checked through the interface itself. Each engine
//! crate runs it from its own `cargo test` with
//! [`conformance_suite!`](crate::conformance_suite), which expands every
//! case into a test of its own.

mod audit;
mod auth;
mod console;
mod contacts;
mod escalation;
mod events;
mod fhir;
pub mod fixtures;
mod health;
mod idempotency;
mod lists;
mod notifications;
mod operators;
mod outbox;
mod tickets;
mod transfer;

pub use fixtures::{Fixture, Reopen};

pub use audit::*;
pub use auth::*;
pub use console::*;
pub use contacts::*;
pub use escalation::*;
pub use events::*;
pub use fhir::*;
pub use health::*;
pub use idempotency::*;
pub use lists::*;
pub use notifications::*;
pub use operators::*;
pub use outbox::*;
pub use tickets::*;
pub use transfer::*;

/// Expands into one `#[tokio::test]` per conformance case. `$open` is an
/// async function answering `Option<Fixture>`: a store on a fresh database,
/// or `None` when the engine's server is not there (the test is skipped).
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@one $open;
            is_empty_until_a_provider_exists
            providers_keep_fixed_ids_and_generated_ids_continue_above
            a_taken_id_is_a_duplicate
            a_providers_country_is_set_and_read_back
            employees_need_an_existing_provider
            applications_need_an_employee_of_their_provider
            a_taken_api_key_is_a_duplicate
            residents_are_created_all_or_none
            residents_keep_every_field
            categories_are_listed_per_provider_in_id_order
            revoking_an_application_revokes_its_tokens
            tokens_are_revoked_by_application_or_employee
            rotating_a_secret_replaces_it_and_revokes_tokens
            an_application_is_found_by_key_with_its_provider
            a_token_is_found_by_its_hash_with_its_application
            authorize_failures_are_counted_per_scope_and_window
            concurrent_attempts_each_see_the_ones_before
            an_application_keeps_its_newest_live_tokens_only
            a_detail_embeds_the_newest_comments_and_counts_the_rest
            a_ticket_that_notifies_no_one_is_read_whole
            a_ticket_is_stored_whole
            a_ticket_about_another_providers_resident_or_category_is_refused
            fixed_ticket_ids_are_kept_and_generated_ones_continue_above
            details_and_attachments_of_another_provider_are_not_found
            a_comment_moves_updated_at_forward_never_back
            comments_on_foreign_tickets_or_categories_are_not_found
            status_changes_are_recorded_and_a_repeat_records_nothing
            a_status_change_of_a_foreign_ticket_is_not_found
            every_change_raises_the_version_and_a_stale_one_is_refused
            concurrent_status_changes_each_see_the_one_before
            tickets_stream_in_id_order_across_chunks
            ticket_filters_narrow_the_list
            pages_and_cursors_select_windows
            residents_stream_per_provider_in_id_order
            a_reader_that_stops_early_leaves_the_store_usable
            a_repeated_key_replays_and_writes_nothing
            a_key_reused_with_other_parameters_is_refused
            a_key_is_forgotten_after_its_window
            keys_belong_to_one_application
            a_failed_write_leaves_its_key_unclaimed
            racing_retries_write_once
            appended_entries_chain_and_verify
            a_write_records_its_entry_and_a_failed_write_none
            concurrent_appends_never_fork_a_chain
            a_burst_of_entries_chains_across_statements
            two_writers_on_one_database_append_to_chains_of_their_own
            pruning_keeps_every_chain_verifiable
            a_chain_altered_behind_the_store_fails_to_verify
            claims_are_most_urgent_first_and_providers_take_turns
            a_message_held_for_quiet_hours_says_until_when
            a_request_tells_exactly_whom_it_names
            a_numbers_sms_consent_follows_its_replies
            files_added_later_join_the_ticket
            a_category_is_renamed_within_its_provider
            contacts_are_listed_corrected_and_removed_within_their_provider
            a_notify_policy_is_the_default_until_set_and_belongs_to_its_provider
            only_the_lease_holder_records_an_attempt
            given_back_claims_go_to_the_next_claimant_at_once
            waiting_notifications_are_held_with_their_reason
            a_retry_makes_a_failed_notification_due_within_its_provider
            a_gateway_report_applies_to_the_message_it_names
            escalation_rules_are_the_defaults_overridden_per_provider
            staff_contacts_belong_to_their_provider
            an_unanswered_notification_escalates_until_someone_answers
            a_link_acknowledges_once
            console_accounts_are_found_by_address_and_by_invitation
            sessions_open_stay_alive_and_end
            a_board_display_pairs_once_and_stops_when_revoked
            a_second_factors_code_opens_one_session_and_a_provider_may_require_one
            the_board_and_resident_search_stay_within_their_provider
            health_reports_the_schema_the_outbox_and_closes_last
            events_get_cursors_in_order_and_stay_within_their_provider
            retention_removes_a_prefix_of_the_feed_and_remembers_it
            a_webhook_endpoint_is_leased_whole_retried_disabled_and_replayed
            fhir_tokens_are_found_by_hash_with_their_scope_and_revoked_with_the_api_s
            a_client_assertion_is_claimed_once
            client_keys_and_audit_leave_are_kept_per_application
            fhir_searches_page_by_id_within_their_provider
        );
        $crate::conformance_suite!(@two $open;
            an_export_imports_into_an_empty_store_unchanged
            an_import_into_a_store_that_holds_data_is_refused
            ids_continue_above_imported_ones
            an_audit_trail_alone_makes_a_store_not_empty
            racing_imports_write_once
        );
    };
    (@one $open:path; $($case:ident)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let Some(fixture) = $open().await else { return };
            $crate::testing::conformance::$case(fixture).await;
        }
    )*};
    (@two $open:path; $($case:ident)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let (Some(source), Some(target)) = ($open().await, $open().await) else { return };
            $crate::testing::conformance::$case(source, target).await;
        }
    )*};
}

/// The engine-level cases: they need the engine itself (`SqlStore<E>`), to
/// run jobs the storage interface never would. `$open` answers the store
/// and what keeps its database alive, or `None` to skip; on PostgreSQL it
/// opens one write lane, so that jobs queue up for the same batch and
/// chain.
#[macro_export]
macro_rules! engine_conformance_suite {
    ($open:path) => {
        $crate::engine_conformance_suite!(@each $open;
            a_write_undone_after_it_appended_leaves_its_chain_whole
            an_append_onto_a_moved_anchor_writes_nothing
            a_failed_job_undoes_only_its_own_writes_in_a_shared_batch
            failed_first_jobs_of_a_batch_undo_only_their_own_writes
            a_batch_whose_only_job_fails_writes_nothing
        );
    };
    (@each $open:path; $($case:ident)*) => {$(
        #[tokio::test]
        async fn $case() {
            let Some((_database, store)) = $open().await else { return };
            $crate::testing::conformance::$case(&store).await;
        }
    )*};
}
