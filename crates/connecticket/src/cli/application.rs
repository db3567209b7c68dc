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
    /// Register the public keys (a JWK Set file: EC P-384 or RSA) the
    /// application signs FHIR client assertions with (SMART Backend
    /// Services), replacing any before; or remove them.
    FhirKeys {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
        /// A JSON file holding the JWK Set (public keys only).
        #[arg(long, required_unless_present = "remove", conflicts_with = "remove")]
        jwks: Option<std::path::PathBuf>,
        /// Remove the registered keys: signed assertions stop working.
        #[arg(long)]
        remove: bool,
    },
    /// Allow an application to read the provider's audit trail through the
    /// FHIR facade (AuditEvent, scope system/AuditEvent.rs), or withdraw
    /// that leave (it takes effect at once).
    FhirAudit {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        id: i64,
        #[arg(
            long,
            required_unless_present = "withdraw",
            conflicts_with = "withdraw"
        )]
        grant: bool,
        #[arg(long)]
        withdraw: bool,
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
        ApplicationCommand::FhirKeys {
            provider,
            id,
            jwks,
            remove: _,
        } => {
            let text =
                match &jwks {
                    Some(path) => Some(std::fs::read_to_string(path).map_err(|error| {
                        anyhow::anyhow!("cannot read {}: {error}", path.display())
                    })?),
                    None => None,
                };
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            let count = context
                .service
                .set_fhir_client_keys(call, ApplicationId(id), text.as_deref())
                .await?;
            match count {
                0 => say!("removed the FHIR client keys of application {id}"),
                count => say!("application {id} now signs FHIR client assertions with {count} registered key(s)"),
            }
        }
        ApplicationCommand::FhirAudit {
            provider,
            id,
            grant,
            withdraw: _,
        } => {
            let call = context
                .for_provider(Action::ManageApplications, provider)
                .await?;
            context
                .service
                .set_fhir_audit_access(call, ApplicationId(id), grant)
                .await?;
            match grant {
                true => say!("application {id} may now read the audit trail as FHIR AuditEvent"),
                false => say!("application {id} may no longer read the audit trail"),
            }
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
