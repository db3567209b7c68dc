use clap::Subcommand;
use connecticket_domain::audit::Action;
use connecticket_domain::model::{ApplicationId, EmployeeId};
use connecticket_domain::service::ApplicationRequest;
use connecticket_domain::time::format_timestamp;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum ApplicationCommand {
    /// Register a client application acting as an employee; prints its
    /// api_key and api_secret. The secret is shown this once only.
    Create {
        #[arg(long)]
        provider: i64,
        /// The employee the application's tickets and comments are made by.
        #[arg(long)]
        employee: i64,
        #[arg(long)]
        name: String,
    },
    /// List a provider's applications (never their secrets).
    List {
        #[arg(long)]
        provider: i64,
    },
    /// Give an application a new api_secret (printed once). The old secret
    /// and every token the application holds stop working at once.
    RotateSecret {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
    },
    /// Revoke an application: its credentials and every token it holds stop
    /// working at once.
    Revoke {
        #[arg(long)]
        provider: i64,
        /// The application's id (see `app list`).
        #[arg(long)]
        id: i64,
    },
}

pub(super) async fn run(context: &AdminContext, command: ApplicationCommand) -> anyhow::Result<()> {
    match command {
        ApplicationCommand::Create {
            provider,
            employee,
            name,
        } => {
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            context.warn_if_demo_key();
            let request = ApplicationRequest {
                name: &name,
                acting_as: Some(EmployeeId(employee)),
            };
            let created = context.service.create_application(call, request).await?;
            say!(
                "created application {} ({})",
                created.application.id,
                created.application.name
            );
            say!("api_key: {}", created.application.api_key);
            say!("api_secret: {}", created.api_secret);
            say!("Store the api_secret now: only its hash is kept, it cannot be shown again.");
        }
        ApplicationCommand::List { provider } => {
            let call = context.for_provider(Action::Applications, provider).await?;
            let applications = context.service.list_applications(call).await?;
            say!("id\tname\temployee_id\tapi_key\trevoked_at");
            for app in applications {
                let revoked = app
                    .revoked_at
                    .map(|at| format_timestamp(at, chrono_tz::UTC))
                    .unwrap_or_default();
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    app.id,
                    app.name,
                    app.employee_id,
                    app.api_key,
                    revoked
                );
            }
        }
        ApplicationCommand::RotateSecret { provider, id } => {
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            context.warn_if_demo_key();
            let rotated = context
                .service
                .rotate_secret(call, ApplicationId(id))
                .await?;
            say!(
                "rotated the secret of application {} ({}); its tokens were revoked",
                rotated.application.id,
                rotated.application.name
            );
            say!("api_key: {}", rotated.application.api_key);
            say!("api_secret: {}", rotated.api_secret);
            say!("Store the api_secret now: only its hash is kept, it cannot be shown again.");
        }
        ApplicationCommand::Revoke { provider, id } => {
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            let app = context
                .service
                .revoke_application(call, ApplicationId(id))
                .await?;
            say!(
                "revoked application {} ({}) and all its tokens",
                app.id,
                app.name
            );
        }
    }
    Ok(())
}
