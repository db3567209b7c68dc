//! The domain's storage roles, implemented over any engine from their one
//! declaration each (`connecticket_domain::store::roles`).

use connecticket_domain::store::types::*;

connecticket_domain::implement_auth_store!();
connecticket_domain::implement_ticket_store!();
connecticket_domain::implement_audit_store!();
connecticket_domain::implement_operator_store!();
connecticket_domain::implement_transfer_store!();
connecticket_domain::implement_notification_store!();
connecticket_domain::implement_escalation_store!();
connecticket_domain::implement_health_store!();
connecticket_domain::implement_console_store!();
connecticket_domain::implement_event_store!();
connecticket_domain::implement_fhir_store!();
