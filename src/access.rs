//! `huiyin token issue|revoke` and `huiyin password set`: credentials, kept outside the ledger.
//! Like `exec`, these trust whoever runs them (they hold the database).

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use aggregates::actor::Role;
use anyhow::Context;
use huiyin::auth::password::PasswordCost;
use huiyin::auth::{issue_token, set_password};
use infra::store::Stores;
use serde_json::json;

use crate::cli::{PasswordArgs, PasswordCommand, TokenArgs, TokenCommand};
use crate::output;

fn role(text: &str) -> anyhow::Result<Role> {
    text.parse::<Role>()
        .with_context(|| format!("--role {text}"))
}

pub(crate) async fn token(stores: &Stores, args: TokenArgs) -> anyhow::Result<ExitCode> {
    let now = jiff::Timestamp::now();
    match args.command {
        TokenCommand::Issue {
            person,
            role: role_text,
            days,
        } => {
            let ttl = Duration::from_secs(u64::from(days) * 24 * 60 * 60);
            let issued =
                issue_token(&*stores.credentials, &person, role(&role_text)?, now, ttl).await?;
            output::json_line(&json!({
                "token_id": issued.token_id,
                "token": issued.token,
                "person_id": issued.person_id,
                "role": issued.role.as_str(),
                "expires_at": issued.expires_at.to_string(),
            }))?;
            eprintln!("huiyin: the token is shown only now; only its hash is kept");
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { token_id } => {
            let revoked = stores.credentials.revoke_token(&token_id, now).await?;
            output::json_line(&json!({"token_id": token_id, "revoked": revoked}))?;
            if !revoked {
                eprintln!("huiyin: no unrevoked token {token_id}");
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The password from standard input: its first line, without the line ending.
fn read_password() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the password from standard input")?;
    let line = text.lines().next().unwrap_or_default();
    Ok(line.to_owned())
}

pub(crate) async fn password(stores: &Stores, args: PasswordArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PasswordCommand::Set { person, roles } => {
            let roles = roles
                .iter()
                .map(|text| role(text))
                .collect::<anyhow::Result<Vec<Role>>>()?;
            let password = read_password()?;
            let now = jiff::Timestamp::now();
            set_password(
                &*stores.credentials,
                &person,
                &roles,
                &password,
                PasswordCost::RECOMMENDED,
                now,
            )
            .await?;
            let roles: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
            output::json_line(&json!({"ok": true, "person_id": person, "roles": roles}))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
