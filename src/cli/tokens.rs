//! `lagesbild token create|list|revoke`.

use std::process::ExitCode;

use super::output::println_out;
use super::{TokenCommand, open_accounts};
use crate::config::Settings;
use crate::startup::local_viewer;

/// Runs a token command as the local administrator.
///
/// # Errors
/// No such account or token, store failures.
pub async fn run(settings: &Settings, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let service = open_accounts(settings).await?;
    let admin = local_viewer(&service)?;
    match cmd {
        TokenCommand::Create { user, label, days } => {
            let valid = days.map(|d| time::Duration::days(i64::from(d)));
            let (id, token) = service.create_token(&user, &label, valid, &admin).await?;
            eprintln!("token {id} for '{user}' ({label}); it is shown only now:");
            println_out(&token);
        }
        TokenCommand::List => {
            for t in service.list_tokens(&admin).await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {}", r.date()),
                    (None, Some(e)) => format!("expires {}", e.date()),
                    (None, None) => "active".into(),
                };
                println_out(&format!(
                    "{}  {:<16} {:<30} {state}",
                    t.id, t.user_name, t.label
                ));
            }
        }
        TokenCommand::Revoke { id } => {
            service.revoke_token(id, &admin).await?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
