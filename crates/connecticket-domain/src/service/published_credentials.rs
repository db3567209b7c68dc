//! Whether the credentials the demo publishes still open anything: `serve`
//! refuses to run outside demo mode while they do.

use crate::error::DomainResult;
use crate::service::Connecticket;

impl Connecticket {
    /// True when a demo console account still opens with the published
    /// demo password.
    pub async fn demo_passwords_active(&self) -> DomainResult<bool> {
        for (email, ..) in crate::demo::DEMO_CONSOLE_ACCOUNTS {
            let Some(holder) = self
                .store
                .console_account_by_email((*email).to_owned())
                .await?
            else {
                continue;
            };
            let Some(hash) = holder.account.password_hash else {
                continue;
            };
            let opens = tokio::task::spawn_blocking(move || {
                crate::console::password::verify_password(
                    crate::console::password::DEMO_PASSWORD,
                    &hash,
                )
            })
            .await
            .unwrap_or(true);
            if opens {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// True when an unrevoked application still accepts the published demo
    /// credentials.
    pub async fn demo_credentials_active(&self) -> DomainResult<bool> {
        let demo = [
            (crate::demo::DEMO_API_KEY, crate::demo::DEMO_API_SECRET),
            (
                crate::demo::SUNRISE_API_KEY,
                crate::demo::SUNRISE_API_SECRET,
            ),
        ];
        for (key, secret) in demo {
            if let Some(application) = self.store.application_by_key(key.to_owned()).await? {
                if !application.revoked
                    && self
                        .hasher
                        .verify_api_secret(secret, &application.secret_hash)
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}
