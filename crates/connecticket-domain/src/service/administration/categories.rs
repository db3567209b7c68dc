//! Categories: what every ticket of the provider rates (Issue / No Issue /
//! Potential Issue).

use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::{DomainError, DomainResult, Field, Problem};
use crate::model::{Category, CategoryId, NewCategory, ProviderId};
use crate::service::audit::Recorded;
use crate::service::Connecticket;
use crate::validate::{required_text, MAX_SHORT_TEXT};

impl Connecticket {
    /// The provider's categories, for managing them.
    pub async fn list_categories(&self, call: AdminCall) -> DomainResult<Vec<Category>> {
        self.administrate(
            call,
            Action::ProviderCategories,
            Recorded::Afterwards,
            async |scope, entry| {
                let categories = self.store.categories(scope.provider_id()?).await?;
                for category in &categories {
                    entry.touch(RecordRef::Category(category.id));
                }
                Ok(categories)
            },
        )
        .await
    }

    /// A new category.
    pub async fn create_category(&self, call: AdminCall, name: &str) -> DomainResult<Category> {
        self.administrate(
            call,
            Action::ManageCategories,
            Recorded::ByTheWrite,
            async |scope, entry| {
                let provider = scope.provider_id()?;
                let name = required_text(Field::Name, name, MAX_SHORT_TEXT)?;
                self.refuse_taken_name(provider, &name, None).await?;
                let category = NewCategory {
                    id: None,
                    provider_id: provider,
                    name,
                    created_at: self.now(),
                };
                Ok(self.store.create_category(category, entry.clone()).await?)
            },
        )
        .await
    }

    /// Renames one of the provider's categories.
    pub async fn rename_category(
        &self,
        call: AdminCall,
        id: CategoryId,
        name: &str,
    ) -> DomainResult<Category> {
        self.administrate(
            call,
            Action::ManageCategories,
            Recorded::ByTheWrite,
            async |scope, entry| {
                entry.touch(RecordRef::Category(id));
                let provider = scope.provider_id()?;
                let name = required_text(Field::Name, name, MAX_SHORT_TEXT)?;
                self.refuse_taken_name(provider, &name, Some(id)).await?;
                Ok(self
                    .store
                    .rename_category(provider, id, name, entry.clone())
                    .await?)
            },
        )
        .await
    }

    /// Two categories of one name would be rated side by side and told
    /// apart by nobody: a name is refused when another category has it,
    /// whatever its case and spacing.
    async fn refuse_taken_name(
        &self,
        provider: ProviderId,
        name: &str,
        renamed: Option<CategoryId>,
    ) -> DomainResult<()> {
        let wanted = comparable(name);
        let taken = self
            .store
            .categories(provider)
            .await?
            .into_iter()
            .any(|c| Some(c.id) != renamed && comparable(&c.name) == wanted);
        if taken {
            return Err(DomainError::invalid(
                Field::Name,
                Problem::Rule(format!("“{name}” is already used by another category")),
            ));
        }
        Ok(())
    }
}

fn comparable(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
