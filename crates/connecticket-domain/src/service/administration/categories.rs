//! Categories: what every ticket of the provider rates (Issue / No Issue /
//! Potential Issue).

use super::AdminCall;
use crate::audit::{Action, RecordRef};
use crate::error::{DomainResult, Field};
use crate::model::{Category, CategoryId, NewCategory};
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
                let category = NewCategory {
                    id: None,
                    provider_id: scope.provider_id()?,
                    name: required_text(Field::Name, name, MAX_SHORT_TEXT)?,
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
                Ok(self
                    .store
                    .rename_category(provider, id, name, entry.clone())
                    .await?)
            },
        )
        .await
    }
}
