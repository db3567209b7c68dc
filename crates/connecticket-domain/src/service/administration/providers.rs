//! Providers: the installation's tenants. Operators only: no provider's
//! administrator sees or makes another.

use chrono_tz::Tz;

use super::{AdminCall, OperatorCall};
use crate::audit::Action;
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{NewProvider, Provider};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::{required_text, PhoneCountry, MAX_SHORT_TEXT};

impl Connecticket {
    /// A new provider whose timestamps render in `time_zone` (IANA).
    pub async fn create_provider(
        &self,
        call: OperatorCall,
        name: &str,
        time_zone: &str,
        country: &str,
    ) -> DomainResult<Provider> {
        self.administrate(
            call,
            Action::ManageProviders,
            Recorded::ByTheWrite,
            async |_, entry| {
                let name = required_text(Field::Name, name, MAX_SHORT_TEXT)?;
                let zone = parse_zone(time_zone)?;
                let provider = NewProvider {
                    id: None,
                    name,
                    time_zone: zone.name().to_owned(),
                    country: PhoneCountry::checked(country)?,
                    created_at: self.now(),
                };
                Ok(self.store.create_provider(provider, entry.clone()).await?)
            },
        )
        .await
    }

    /// Sets the country the provider's phone numbers are read in when
    /// they carry no country code (numbers already saved keep theirs).
    pub async fn set_phone_country(&self, call: AdminCall, country: &str) -> DomainResult<String> {
        self.administrate(
            call,
            Action::ManageProviders,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let country = PhoneCountry::checked(country)?;
                entry.records.insert(format!("country:{country}"));
                self.store
                    .set_provider_country(scope.provider_id()?, country.clone(), entry.clone())
                    .await?;
                Ok(country)
            },
        )
        .await
    }

    /// Every provider, by id. (Looking at a fresh database leaves it
    /// fresh, ready for the demo: an empty list records nothing.)
    pub async fn list_providers(&self, call: OperatorCall) -> DomainResult<Vec<Provider>> {
        self.administrate(
            call,
            Action::Providers,
            Recorded::WhenDisclosed,
            async |_, entry| {
                let providers = self.store.providers().await?;
                if !providers.is_empty() {
                    entry.records.insert(format!("rows:{}", providers.len()));
                    self.record(entry.clone(), Ok(())).await?;
                }
                Ok(providers)
            },
        )
        .await
    }
}

fn parse_zone(time_zone: &str) -> DomainResult<Tz> {
    time_zone.trim().parse().map_err(|_| {
        DomainError::invalid(
            Field::TimeZone,
            Problem::Rule(format!(
                "{time_zone:?} is not an IANA time zone name (e.g. America/New_York)"
            )),
        )
    })
}
