//! The change feed and webhook endpoints, as applications use them through
//! the API and administrators through the console and the CLI.

use crate::audit::AuditEntry;
use crate::auth::Principal;
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::events::webhooks::{
    self, new_secret_salt, secret_text, NewWebhook, ReplayRange, Webhook,
    MAX_ENDPOINTS_PER_APPLICATION, ROTATION_OVERLAP,
};
use crate::events::{FeedPage, FeedQuery, MAX_FEED_LIMIT};
use crate::model::{ApplicationId, WebhookId};
use crate::service::audit::{Call, Recorded};
use crate::service::{AdminCall, Connecticket};

/// What registering an endpoint asks for, as the client wrote it.
#[derive(Debug, Clone, Default)]
pub struct WebhookRequest {
    pub url: String,
    /// Comma or space separated event types; none: every type.
    pub event_types: Option<String>,
}

/// An endpoint with its signing secret: shown when it is registered or
/// rotated, and never again.
#[derive(Debug)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    pub secret: String,
}

fn calling_application(principal: &Principal) -> DomainResult<ApplicationId> {
    principal.application_id().ok_or(DomainError::Forbidden(
        "only an application has webhook endpoints",
    ))
}

fn naming(entry: &mut AuditEntry, webhook: &Webhook) {
    entry.records.insert(format!("webhook:{}", webhook.id));
}

impl Connecticket {
    /// `GET changes`: the provider's events after a cursor, oldest first.
    pub async fn changes(&self, call: Call, query: FeedQuery) -> DomainResult<FeedPage> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            if query.limit == 0 || query.limit > MAX_FEED_LIMIT {
                return Err(DomainError::invalid(
                    Field::Limit,
                    Problem::Rule(format!("must be between 1 and {MAX_FEED_LIMIT}")),
                ));
            }
            if query.after < 0 {
                return Err(DomainError::invalid(
                    Field::Cursor,
                    Problem::Rule("must be a cursor this feed gave, or 0".to_owned()),
                ));
            }
            let page = self
                .store
                .event_feed(principal.provider.id, query.after, query.limit)
                .await?;
            // 0 asks for the oldest event kept.
            if query.after > 0 && query.after < page.pruned_through {
                return Err(DomainError::CursorExpired(
                    "the cursor is older than the events this server keeps: read the records \
                     afresh, then follow the feed from after=0",
                ));
            }
            if query.after > page.last_cursor {
                return Err(DomainError::CursorExpired(
                    "this feed never gave that cursor (was the database replaced?): read the \
                     records afresh, then follow the feed from after=0",
                ));
            }
            entry.records.insert(format!("after:{}", query.after));
            entry.records.insert(format!("rows:{}", page.events.len()));
            let has_more = page.events.len() == query.limit as usize;
            let next_cursor = match (has_more, page.events.last()) {
                (true, Some(last)) => last.cursor,
                _ => page.last_cursor,
            };
            Ok(FeedPage {
                events: page.events,
                next_cursor,
                has_more,
            })
        })
        .await
    }

    /// `POST webhooks`: registers an endpoint of the calling application.
    pub async fn register_webhook(
        &self,
        call: Call,
        request: WebhookRequest,
    ) -> DomainResult<WebhookWithSecret> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let application = calling_application(principal)?;
            self.new_webhook(principal.provider.id, application, request, entry)
                .await
        })
        .await
    }

    /// `GET webhooks`: the calling application's endpoints.
    pub async fn application_webhooks(&self, call: Call) -> DomainResult<Vec<Webhook>> {
        self.run(call, Recorded::Afterwards, async |principal, entry| {
            let application = calling_application(principal)?;
            entry.records.insert("listed".to_owned());
            let found = self
                .store
                .webhooks(principal.provider.id, Some(application))
                .await?;
            found.iter().for_each(|webhook| naming(entry, webhook));
            Ok(found)
        })
        .await
    }

    /// `DELETE webhooks/{id}`: one of the calling application's.
    pub async fn delete_webhook(&self, call: Call, id: WebhookId) -> DomainResult<()> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let application = calling_application(principal)?;
            entry.records.insert("deleted".to_owned());
            let (provider, now) = (principal.provider.id, self.now());
            self.store
                .delete_webhook(provider, Some(application), id, now, entry.clone())
                .await?;
            Ok(())
        })
        .await
    }

    /// `POST webhooks/{id}/rotate`: a new secret; the old one signs too for
    /// [`ROTATION_OVERLAP`], so receivers can switch without losing events.
    pub async fn rotate_webhook_secret(
        &self,
        call: Call,
        id: WebhookId,
    ) -> DomainResult<WebhookWithSecret> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let application = calling_application(principal)?;
            self.rotate(principal.provider.id, Some(application), id, entry)
                .await
        })
        .await
    }

    /// `POST webhooks/{id}/replay`: the application asks for a range of
    /// its events again (the endpoint is re-enabled).
    pub async fn replay_webhook(
        &self,
        call: Call,
        id: WebhookId,
        range: ReplayRange,
    ) -> DomainResult<u64> {
        self.run(call, Recorded::ByTheWrite, async |principal, entry| {
            let application = calling_application(principal)?;
            self.replay(principal.provider.id, Some(application), id, range, entry)
                .await
        })
        .await
    }

    /// Registers an endpoint for one of the provider's applications
    /// (administration: console and CLI); its secret is shown once.
    pub async fn admin_register_webhook(
        &self,
        call: impl Into<AdminCall>,
        application: ApplicationId,
        request: WebhookRequest,
    ) -> DomainResult<WebhookWithSecret> {
        self.administrate(
            call,
            crate::audit::Action::ManageWebhooks,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                let live = self
                    .store
                    .applications(provider)
                    .await?
                    .into_iter()
                    .any(|a| a.id == application && a.revoked_at.is_none());
                if !live {
                    return Err(DomainError::NotFound(crate::Entity::Application));
                }
                self.new_webhook(provider, application, request, entry)
                    .await
            },
        )
        .await
    }

    /// A new secret for any endpoint of the provider (administration).
    pub async fn admin_rotate_webhook(
        &self,
        call: impl Into<AdminCall>,
        id: WebhookId,
    ) -> DomainResult<WebhookWithSecret> {
        self.administrate(
            call,
            crate::audit::Action::ManageWebhooks,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                self.rotate(provider, None, id, entry).await
            },
        )
        .await
    }

    async fn new_webhook(
        &self,
        provider: crate::model::ProviderId,
        application: ApplicationId,
        request: WebhookRequest,
        entry: &mut AuditEntry,
    ) -> DomainResult<WebhookWithSecret> {
        let url = webhooks::endpoint_url(&request.url, self.settings.webhook_urls)?;
        let event_types = webhooks::event_types(request.event_types.as_deref())?;
        let existing = self.store.webhooks(provider, Some(application)).await?;
        if existing.len() >= MAX_ENDPOINTS_PER_APPLICATION {
            return Err(DomainError::Conflict(format!(
                "an application may have at most {MAX_ENDPOINTS_PER_APPLICATION} webhook \
                 endpoints; delete one first"
            )));
        }
        entry.records.insert("registered".to_owned());
        let salt = new_secret_salt();
        let secret = secret_text(&self.hasher, &salt);
        let new = NewWebhook {
            provider_id: provider,
            application_id: application,
            url,
            event_types,
            secret_salt: salt,
            at: self.now(),
        };
        let webhook = self.store.create_webhook(new, entry.clone()).await?;
        Ok(WebhookWithSecret { webhook, secret })
    }

    async fn replay(
        &self,
        provider: crate::model::ProviderId,
        application: Option<ApplicationId>,
        id: WebhookId,
        range: ReplayRange,
        entry: &mut AuditEntry,
    ) -> DomainResult<u64> {
        check_range(range)?;
        entry.records.insert("replayed".to_owned());
        let now = self.now();
        let queued = self
            .store
            .replay_webhook_events(provider, application, id, range, now, entry.clone())
            .await?;
        Ok(queued)
    }

    async fn rotate(
        &self,
        provider: crate::model::ProviderId,
        application: Option<ApplicationId>,
        id: WebhookId,
        entry: &mut AuditEntry,
    ) -> DomainResult<WebhookWithSecret> {
        entry.records.insert("rotated".to_owned());
        let salt = new_secret_salt();
        let secret = secret_text(&self.hasher, &salt);
        let until = self.now() + ROTATION_OVERLAP;
        let webhook = self
            .store
            .rotate_webhook_secret(provider, application, id, salt, until, entry.clone())
            .await?;
        Ok(WebhookWithSecret { webhook, secret })
    }

    /// Every endpoint of the provider (administration: console and CLI).
    pub async fn admin_webhooks(&self, call: impl Into<AdminCall>) -> DomainResult<Vec<Webhook>> {
        self.administrate(
            call,
            crate::audit::Action::ManageWebhooks,
            Recorded::Afterwards,
            async |scope, entry| {
                entry.records.insert("listed".to_owned());
                let found = self.store.webhooks(scope.provider_id()?, None).await?;
                found.iter().for_each(|webhook| naming(entry, webhook));
                Ok(found)
            },
        )
        .await
    }

    /// Queues a range of events for an endpoint again and re-enables it
    /// (administration: console and CLI).
    pub async fn admin_replay_webhook(
        &self,
        call: impl Into<AdminCall>,
        id: WebhookId,
        range: ReplayRange,
    ) -> DomainResult<u64> {
        self.administrate(
            call,
            crate::audit::Action::ManageWebhooks,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                self.replay(provider, None, id, range, entry).await
            },
        )
        .await
    }

    /// Deletes any endpoint of the provider (administration).
    pub async fn admin_delete_webhook(
        &self,
        call: impl Into<AdminCall>,
        id: WebhookId,
    ) -> DomainResult<()> {
        self.administrate(
            call,
            crate::audit::Action::ManageWebhooks,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.records.insert("deleted".to_owned());
                let (provider, now) = (scope.provider_id()?, self.now());
                self.store
                    .delete_webhook(provider, None, id, now, entry.clone())
                    .await
                    .map_err(DomainError::from)
            },
        )
        .await
    }
}

fn check_range(range: ReplayRange) -> DomainResult<()> {
    let ReplayRange::Cursors { from, through } = range else {
        return Ok(());
    };
    if from < 1 || through < from {
        return Err(DomainError::invalid(
            Field::Cursor,
            Problem::Rule("a replay needs from ≥ 1 and through ≥ from".to_owned()),
        ));
    }
    Ok(())
}
