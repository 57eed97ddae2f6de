//! `lagesbild user add|list|disable|enable|passwd`.

use std::process::ExitCode;

use anyhow::Context;

use super::output::println_out;
use super::{UserCommand, open_accounts};
use crate::config::Settings;
use crate::service::accounts::{NewUser, generated_password};
use crate::startup::local_viewer;

/// Runs an account command as the local administrator.
///
/// # Errors
/// Invalid names or passwords, unknown roles, store failures.
pub async fn run(settings: &Settings, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let service = open_accounts(settings).await?;
    let admin = &local_viewer(&service)?;
    match cmd {
        UserCommand::Add {
            name,
            role,
            organisation,
            display_name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            service
                .add_user(
                    NewUser {
                        display_name: display_name.unwrap_or_else(|| name.clone()),
                        name: name.clone(),
                        organisation,
                        role,
                        password: password.clone(),
                    },
                    admin,
                )
                .await?;
            eprintln!("account '{name}' added");
            if generated {
                eprintln!("its password, shown only now:");
                println_out(&password);
            }
        }
        UserCommand::List => {
            for u in service.list_users(admin).await? {
                println_out(&format!(
                    "{:<20} {:<22} {:<28} {}",
                    u.name,
                    u.role,
                    u.organisation,
                    if u.disabled { "disabled" } else { "active" }
                ));
            }
        }
        UserCommand::Disable { name } => {
            service.set_user_disabled(&name, true, admin).await?;
            eprintln!("account '{name}' disabled; its sessions and tokens no longer work");
        }
        UserCommand::Enable { name } => {
            service.set_user_disabled(&name, false, admin).await?;
            eprintln!("account '{name}' enabled");
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = new_password(password_stdin)?;
            service.set_password(&name, &password, admin).await?;
            eprintln!("new password set for '{name}'; its sessions were ended");
            if generated {
                eprintln!("the new password, shown only now:");
                println_out(&password);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A password read from standard input, or a generated one (then `true`: show it once).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    Ok(if from_stdin {
        (read_password()?, false)
    } else {
        (generated_password(), true)
    })
}

/// Reads one line (a password) from standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
