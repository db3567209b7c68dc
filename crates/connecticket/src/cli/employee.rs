use clap::Subcommand;

use connecticket_domain::console::ConsoleRole;
use connecticket_domain::model::EmployeeId;

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
    /// List a provider's employees.
    List {
        #[arg(long)]
        provider: i64,
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
            let provider = context.provider(provider).await?;
            let employee = context
                .admin
                .create_employee(provider, &name, email.as_deref())
                .await?;
            println!("created employee {} ({})", employee.id, employee.name);
        }
        EmployeeCommand::List { provider } => {
            let provider = context.provider(provider).await?;
            println!("id\tname\temail");
            for employee in context.admin.employees(provider).await? {
                println!(
                    "{}\t{}\t{}",
                    employee.id,
                    employee.name,
                    employee.email.unwrap_or_default()
                );
            }
        }
        EmployeeCommand::Invite {
            provider,
            employee,
            email,
            role,
            public_url,
        } => {
            let provider = context.provider(provider).await?;
            let invitation = context
                .admin
                .invite_to_console(provider, EmployeeId(employee), email.as_deref(), role)
                .await?;
            println!(
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
            context
                .admin
                .set_console_password(&email, &password)
                .await?;
            println!(
                "password set for {}; its sessions ended",
                email.trim().to_lowercase()
            );
        }
    }
    Ok(())
}
