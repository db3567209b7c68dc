use clap::Subcommand;

use connecticket_domain::audit::Action;
use connecticket_domain::console::ConsoleRole;
use connecticket_domain::model::EmployeeId;
use connecticket_domain::service::NewEmployeeRequest;

use super::AdminContext;

#[derive(Debug, Subcommand)]
pub enum EmployeeCommand {
    /// Create an employee of a provider; prints its id.
    Create {
        #[arg(long)]
        provider: i64,
        /// Shown as `commented_by` on the employee's comments.
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// List a provider's employees, with their console accounts.
    List {
        #[arg(long)]
        provider: i64,
    },
    /// Change an employee's console role; their sessions end.
    SetRole {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        employee: i64,
        /// staff or administrator.
        #[arg(long, value_parser = parse_role)]
        role: ConsoleRole,
    },
    /// Require (or stop requiring) a second factor of every console
    /// account of a provider.
    SecondFactor {
        #[arg(long)]
        provider: i64,
        /// required or optional.
        #[arg(long, value_parser = ["required", "optional"])]
        policy: String,
    },
    /// Give an employee a console account, or a fresh invitation: prints a
    /// one-time link (valid 72 hours) with which they set a password.
    /// Their current password, second factor and sessions end.
    Invite {
        #[arg(long)]
        provider: i64,
        #[arg(long)]
        employee: i64,
        /// The address they sign in with (default: the employee's email).
        #[arg(long)]
        email: Option<String>,
        /// staff or administrator (default: staff, or the account's role).
        #[arg(long, value_parser = parse_role)]
        role: Option<ConsoleRole>,
        /// Where people reach the server, for the link.
        #[arg(
            long,
            env = "CONNECTICKET_PUBLIC_URL",
            default_value = "http://127.0.0.1:3000"
        )]
        public_url: String,
    },
    /// Set the console password of the account with this address, read
    /// from standard input (without echo on a terminal). Its sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
    },
}

fn parse_role(text: &str) -> Result<ConsoleRole, String> {
    ConsoleRole::parse(text).ok_or_else(|| "role must be staff or administrator".to_owned())
}

/// The new password: typed without echo on a terminal, else the first
/// line of standard input (for scripts).
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    Ok(password)
}

pub(super) async fn run(context: &AdminContext, command: EmployeeCommand) -> anyhow::Result<()> {
    match command {
        EmployeeCommand::Create {
            provider,
            name,
            email,
        } => {
            let call = context
                .for_provider(Action::ManageEmployees, provider)
                .await?;
            let request = NewEmployeeRequest {
                name: &name,
                email: email.as_deref(),
                console_role: None,
            };
            let (employee, _) = context.service.create_employee(call, request).await?;
            say!("created employee {} ({})", employee.id, employee.name);
        }
        EmployeeCommand::List { provider } => {
            let call = context.for_provider(Action::Employees, provider).await?;
            let roster = context.service.roster(call).await?;
            say!("id\tname\temail\tconsole_role");
            for (employee, account) in roster {
                say!(
                    "{}\t{}\t{}\t{}",
                    employee.id,
                    employee.name,
                    employee.email.unwrap_or_default(),
                    account.map(|a| a.role.as_str()).unwrap_or_default()
                );
            }
        }
        EmployeeCommand::SetRole {
            provider,
            employee,
            role,
        } => {
            let call = context
                .for_provider(Action::ManageEmployees, provider)
                .await?;
            context
                .service
                .set_console_role(call, EmployeeId(employee), role)
                .await?;
            say!(
                "employee {employee} is now {}; their sessions ended",
                role.as_str()
            );
        }
        EmployeeCommand::SecondFactor { provider, policy } => {
            let call = context
                .for_provider(Action::ManageEmployees, provider)
                .await?;
            let required = policy == "required";
            context
                .service
                .require_second_factor(call, required)
                .await?;
            say!("a second factor is now {policy} for provider {provider}");
        }
        EmployeeCommand::Invite {
            provider,
            employee,
            email,
            role,
            public_url,
        } => {
            let call = context
                .for_provider(Action::ManageEmployees, provider)
                .await?;
            let invitation = context
                .service
                .invite_to_console(call, EmployeeId(employee), email.as_deref(), role)
                .await?;
            say!(
                "{}/console/invite/{}",
                public_url.trim_end_matches('/'),
                invitation.token
            );
            eprintln!(
                "Give this link to the employee yourself: it works once, until {}, and is not stored.",
                invitation.expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        EmployeeCommand::SetPassword { email } => {
            let password = read_password()?;
            let call = context.call(Action::ConsoleAccount);
            context
                .service
                .set_console_password(call, &email, &password)
                .await?;
            say!(
                "password set for {}; its sessions ended",
                email.trim().to_lowercase()
            );
        }
    }
    Ok(())
}
