//! The console's records: accounts found by address and by invitation,
//! sessions opened, kept alive and ended, second factors whose codes work
//! once, and the board and resident search, each within its provider.

use connecticket_domain::audit::Action;
use connecticket_domain::console::display::NewDisplay;
use connecticket_domain::console::{BoardFilter, ConsoleAccount, ConsoleRole, NewSession};
use connecticket_domain::model::{EmployeeId, NewEmployee, ResidentId};
use connecticket_domain::store::Store;
use connecticket_domain::workflow::TicketStatus;
use connecticket_domain::{Entity, StoreError};

use super::audit::entries;
use super::fixtures::{entry, later, t0, tenant, ticket, write, Fixture, Tenant};

/// A new employee of the tenant with a console account, invited with
/// `invite_hash` until an hour after `t0`.
async fn invited(
    store: &dyn Store,
    tenant: &Tenant,
    email: &str,
    invite_hash: &[u8],
) -> EmployeeId {
    let mut account = ConsoleAccount::new(
        EmployeeId(0),
        tenant.provider.id,
        email.to_owned(),
        ConsoleRole::Staff,
        t0(),
    );
    account.invite_hash = Some(invite_hash.to_vec());
    account.invite_expires_at = Some(later(3_600));
    let employee = NewEmployee {
        id: None,
        provider_id: tenant.provider.id,
        name: format!("Employee {email}"),
        email: Some(email.to_owned()),
        created_at: t0(),
    };
    store
        .create_console_employee(employee, account, entry(tenant, Action::ManageEmployees))
        .await
        .expect("employee")
}

fn session(tenant: &Tenant, employee: EmployeeId, token: &[u8], step: Option<i64>) -> NewSession {
    NewSession {
        token_hash: token.to_vec(),
        employee_id: employee,
        provider_id: tenant.provider.id,
        at: later(60),
        totp_step: step,
    }
}

pub async fn console_accounts_are_found_by_address_and_by_invitation(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let before = entries(store).await.len();
    let rosa = invited(store, &a, "rosa@a.example", b"invite-rosa").await;
    let written = entries(store).await.split_off(before);
    assert_eq!(
        written.len(),
        1,
        "one entry for the employee and the account: {written:?}"
    );
    assert!(
        written[0].records.contains(&format!("employee:{rosa}")),
        "{written:?}"
    );

    let roster = store.console_roster(a.provider.id).await.expect("roster");
    let accounts: Vec<_> = roster
        .iter()
        .map(|(e, account)| (e.id, account.as_ref().map(|a| a.email.as_str())))
        .collect();
    assert_eq!(
        accounts,
        [(a.employee.id, None), (rosa, Some("rosa@a.example"))]
    );
    assert!(store
        .console_roster(b.provider.id)
        .await
        .expect("roster")
        .iter()
        .all(|(e, _)| e.id != rosa));

    let found = store
        .console_account_by_email("rosa@a.example".to_owned())
        .await
        .expect("found")
        .expect("an account");
    assert_eq!(
        (found.account.employee_id, found.provider.id),
        (rosa, a.provider.id)
    );
    assert!(store
        .console_account_by_email("nobody@a.example".to_owned())
        .await
        .expect("found")
        .is_none());
    let by_invite = store
        .console_account_by_invite(b"invite-rosa".to_vec(), later(60))
        .await
        .expect("found");
    assert_eq!(by_invite.map(|h| h.account.employee_id), Some(rosa));
    assert!(
        store
            .console_account_by_invite(b"invite-rosa".to_vec(), later(7_200))
            .await
            .expect("found")
            .is_none(),
        "expired"
    );

    // An address is one account's; an account is its provider's employee's.
    let taken = ConsoleAccount::new(
        a.employee.id,
        a.provider.id,
        "rosa@a.example".to_owned(),
        ConsoleRole::Staff,
        t0(),
    );
    let refused = store
        .save_console_account(taken, false, entry(&a, Action::ManageEmployees))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Duplicate { .. })),
        "{refused:?}"
    );
    let foreign = ConsoleAccount::new(
        rosa,
        b.provider.id,
        "rosa@b.example".to_owned(),
        ConsoleRole::Staff,
        t0(),
    );
    let refused = store
        .save_console_account(foreign, false, entry(&b, Action::ManageEmployees))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound(Entity::Employee))),
        "{refused:?}"
    );
}

pub async fn sessions_open_stay_alive_and_end(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let rosa = invited(store, &a, "rosa@a.example", b"invite").await;
    let opened = store
        .create_console_session(
            session(&a, rosa, b"token-1", None),
            entry(&a, Action::SignIn),
        )
        .await
        .expect("session")
        .expect("opened");
    let found = store
        .console_session(b"token-1".to_vec())
        .await
        .expect("found")
        .expect("a session");
    assert_eq!(
        (found.id, found.holder.account.employee_id, found.ended_at),
        (opened, rosa, None)
    );
    assert!(store
        .console_session(b"token-2".to_vec())
        .await
        .expect("found")
        .is_none());
    store
        .touch_console_session(opened, later(120))
        .await
        .expect("touch");
    let touched = store
        .console_session(b"token-1".to_vec())
        .await
        .expect("found")
        .expect("a session");
    assert_eq!(touched.last_seen_at, later(120));
    store
        .end_console_session(opened, later(180), entry(&a, Action::SignOut))
        .await
        .expect("end");
    let ended = store
        .console_session(b"token-1".to_vec())
        .await
        .expect("found")
        .expect("a session");
    assert_eq!(ended.ended_at, Some(later(180)));
    // Signing out everywhere ends every open session of the employee.
    for token in [b"token-3", b"token-4"] {
        store
            .create_console_session(session(&a, rosa, token, None), entry(&a, Action::SignIn))
            .await
            .expect("session");
    }
    let ended = store
        .end_sessions_of(rosa, later(240), entry(&a, Action::SignOut))
        .await
        .expect("end");
    assert_eq!(ended, 2);
    assert!(store
        .console_session(b"token-4".to_vec())
        .await
        .expect("found")
        .and_then(|s| s.ended_at)
        .is_some());
}

pub async fn a_second_factors_code_opens_one_session_and_a_provider_may_require_one(
    fixture: Fixture,
) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let rosa = invited(store, &a, "rosa@a.example", b"invite").await;
    store
        .set_console_totp_required(a.provider.id, true, entry(&a, Action::ManageEmployees))
        .await
        .expect("required");
    let holder = store
        .console_account_by_email("rosa@a.example".to_owned())
        .await
        .expect("found")
        .expect("account");
    assert!(holder.provider_requires_totp);
    let mut account = holder.account;
    account.totp_secret = Some(b"twenty bytes secret!".to_vec());
    store
        .enrol_second_factor(account, 1_000, entry(&a, Action::ConsoleAccount))
        .await
        .expect("enrolled");
    let enrolled = store
        .console_account_by_email("rosa@a.example".to_owned())
        .await
        .expect("found")
        .expect("account");
    assert!(enrolled.account.has_second_factor());
    // The enrolment's own code, or an older one, opens nothing; the next
    // opens one session, once.
    for (token, step, opens) in [
        (b"t1", 1_000, false),
        (b"t2", 999, false),
        (b"t3", 1_001, true),
        (b"t4", 1_001, false),
    ] {
        let opened = store
            .create_console_session(
                session(&a, rosa, token, Some(step)),
                entry(&a, Action::SignIn),
            )
            .await
            .expect("session");
        assert_eq!(opened.is_some(), opens, "step {step}");
    }
}

pub async fn the_board_and_resident_search_stay_within_their_provider(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "a").await;
    let b = tenant(store, "b").await;
    let open = store
        .create_ticket(
            a.provider.id,
            ticket(&a, "open"),
            write(&a, Action::CreateTicket),
        )
        .await
        .expect("ticket")
        .into_inner();
    let mut done = ticket(&a, "done");
    done.ticket_status = TicketStatus::Closed;
    store
        .create_ticket(a.provider.id, done, write(&a, Action::CreateTicket))
        .await
        .expect("ticket");
    store
        .create_ticket(
            b.provider.id,
            ticket(&b, "theirs"),
            write(&b, Action::CreateTicket),
        )
        .await
        .expect("ticket");
    let board = store
        .board(a.provider.id, BoardFilter::default(), 300)
        .await
        .expect("board");
    assert_eq!(
        (
            board.cards.iter().map(|c| c.ticket.id).collect::<Vec<_>>(),
            board.total
        ),
        (vec![open], 1),
        "open tickets, ours only"
    );
    let limited = store
        .board(a.provider.id, BoardFilter::default(), 0)
        .await
        .expect("board");
    assert_eq!(
        (limited.cards.len(), limited.total),
        (0, 1),
        "counted beyond the limit"
    );
    let other_resident = BoardFilter {
        resident: Some(a.residents[1]),
        ..BoardFilter::default()
    };
    assert!(store
        .board(a.provider.id, other_resident, 300)
        .await
        .expect("board")
        .cards
        .is_empty());

    assert_eq!(
        store
            .resident(a.provider.id, a.residents[0])
            .await
            .expect("resident")
            .map(|r| r.first_name),
        Some("Ada".to_owned())
    );
    assert!(
        store
            .resident(a.provider.id, b.residents[0])
            .await
            .expect("resident")
            .is_none(),
        "another provider's"
    );
    assert!(store
        .resident(a.provider.id, ResidentId(999_999))
        .await
        .expect("resident")
        .is_none());
    let found: Vec<String> = store
        .search_residents(a.provider.id, "ad".to_owned(), 10)
        .await
        .expect("search")
        .into_iter()
        .map(|r| r.first_name)
        .collect();
    assert_eq!(found, ["Ada"], "any case, ours only");
    let capped = store
        .search_residents(a.provider.id, "a".to_owned(), 1)
        .await
        .expect("search");
    assert_eq!(capped.len(), 1);
}

fn new_display(tenant: &Tenant, name: &str, code: &[u8]) -> NewDisplay {
    NewDisplay {
        provider_id: tenant.provider.id,
        name: name.to_owned(),
        granted_by: Some(tenant.employee.id),
        code_hash: code.to_vec(),
        pairing_expires_at: later(600),
        at: t0(),
    }
}

pub async fn a_board_display_pairs_once_and_stops_when_revoked(fixture: Fixture) {
    let store = fixture.store.as_ref();
    let a = tenant(store, "A").await;
    let b = tenant(store, "B").await;
    let granted = store
        .create_board_display(
            new_display(&a, "Station 2", b"code-a"),
            entry(&a, Action::ManageDisplays),
        )
        .await
        .expect("granted");
    assert_eq!(granted.name, "Station 2");
    assert_eq!(granted.granted_by, Some(a.employee.id));
    let listed = store.board_displays(a.provider.id).await.expect("list");
    assert_eq!(listed, vec![granted.clone()]);
    assert!(store
        .board_displays(b.provider.id)
        .await
        .expect("list")
        .is_empty());
    // The code is found until it expires, and not by another hash.
    let by_code = |code: &'static [u8], at| store.board_display_by_code(code.to_vec(), at);
    assert_eq!(
        by_code(b"code-a", later(10))
            .await
            .expect("find")
            .map(|d| d.id),
        Some(granted.id)
    );
    assert_eq!(by_code(b"code-a", later(600)).await.expect("expired"), None);
    assert_eq!(by_code(b"other", later(10)).await.expect("unknown"), None);
    // Pairing spends the code: a second screen with the same link loses.
    let before = entries(store).await.len();
    let pair = |token: &'static [u8]| {
        store.pair_board_display(
            granted.id,
            b"code-a".to_vec(),
            token.to_vec(),
            later(20),
            entry(&a, Action::BoardDisplay),
        )
    };
    assert!(pair(b"token-1").await.expect("paired"));
    assert!(!pair(b"token-2").await.expect("spent"));
    assert_eq!(
        entries(store).await.len(),
        before + 1,
        "only the pairing is recorded"
    );
    assert_eq!(by_code(b"code-a", later(30)).await.expect("spent"), None);
    let paired = store
        .board_display(b"token-1".to_vec())
        .await
        .expect("find")
        .expect("paired display");
    assert_eq!(paired.paired_at, Some(later(20)));
    assert_eq!(paired.last_seen_at, Some(later(20)));
    assert_eq!(
        store
            .board_display(b"token-2".to_vec())
            .await
            .expect("find"),
        None
    );
    // Seen again: noted at most once a minute.
    store
        .touch_board_display(granted.id, later(50))
        .await
        .expect("touch");
    let seen = |token: &'static [u8]| store.board_display(token.to_vec());
    assert_eq!(
        seen(b"token-1")
            .await
            .expect("find")
            .and_then(|d| d.last_seen_at),
        Some(later(20))
    );
    store
        .touch_board_display(granted.id, later(90))
        .await
        .expect("touch");
    assert_eq!(
        seen(b"token-1")
            .await
            .expect("find")
            .and_then(|d| d.last_seen_at),
        Some(later(90))
    );
    // Another provider cannot revoke it; its own administrator can.
    let foreign = store
        .revoke_board_display(
            b.provider.id,
            granted.id,
            later(100),
            entry(&b, Action::ManageDisplays),
        )
        .await;
    assert!(
        matches!(foreign, Err(StoreError::NotFound(Entity::Display))),
        "{foreign:?}"
    );
    let revoked = store
        .revoke_board_display(
            a.provider.id,
            granted.id,
            later(100),
            entry(&a, Action::ManageDisplays),
        )
        .await
        .expect("revoked");
    assert_eq!(revoked.revoked_at, Some(later(100)));
    let found = seen(b"token-1")
        .await
        .expect("find")
        .expect("kept, to say so");
    assert_eq!(found.revoked_at, Some(later(100)));
}
