//! The configuration file: one TOML file (`--config`, or
//! `CONNECTICKET_CONFIG`) takes every setting under its flag's name
//! (`listen = "0.0.0.0:3000"`, `smtp_url = "…"`, `pg_pool_size = 20`).
//!
//! The file's values become the flags' defaults, so clap's own order
//! decides: a flag beats its environment variable, which beats the file,
//! which beats the built-in default. An unknown key is an error naming it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};

use super::Cli;

/// The subcommand whose flags a file may set besides the global ones.
const SERVE: &str = "serve";

/// Where each effective setting came from, for `config print`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub source: &'static str,
}

fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CONNECTICKET_CONFIG").map(PathBuf::from)
}

/// A TOML value as the flag would take it on the command line.
fn as_flag_value(key: &str, value: &toml::Value) -> anyhow::Result<String> {
    Ok(match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(n) => n.to_string(),
        toml::Value::Float(n) => n.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| as_flag_value(key, item))
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(","),
        toml::Value::Datetime(_) | toml::Value::Table(_) => {
            bail!("`{key}` must be a string, a number, a boolean or a list")
        }
    })
}

fn has_arg(command: &Command, id: &str) -> bool {
    command.get_arguments().any(|arg| arg.get_id() == id)
}

/// Sets the file's values as defaults; names the first unknown key.
fn apply(mut command: Command, path: &Path) -> anyhow::Result<(Command, BTreeSet<String>)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let serve = command
        .find_subcommand(SERVE)
        .cloned()
        .context("the serve command is missing")?;
    let mut from_file = BTreeSet::new();
    for (key, value) in table {
        let id = key.replace('-', "_");
        if id == "config" || !(has_arg(&command, &id) || has_arg(&serve, &id)) {
            bail!(
                "unknown key `{key}` in the config file {}: keys are the flags' names, e.g. listen, database, smtp_url",
                path.display()
            );
        }
        let value = as_flag_value(&key, &value)
            .with_context(|| format!("in the config file {}", path.display()))?;
        if has_arg(&command, &id) {
            command = command.mut_arg(id.clone(), |arg| arg.default_value(value.clone()));
        }
        if has_arg(&serve, &id) {
            command = command.mut_subcommand(SERVE, |sub| {
                sub.mut_arg(id.clone(), |arg| arg.default_value(value.clone()))
            });
        }
        from_file.insert(id);
    }
    Ok((command, from_file))
}

/// Reads the command line (and the config file, if one is named).
pub fn parse_from(args: Vec<OsString>) -> Result<Cli, ParseError> {
    let mut command = Cli::command();
    let mut from_file = BTreeSet::new();
    if let Some(path) = config_path(&args) {
        (command, from_file) = apply(command, &path).map_err(ParseError::Config)?;
    }
    let matches = command
        .clone()
        .try_get_matches_from(&args)
        .map_err(ParseError::Clap)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(ParseError::Clap)?;
    // `serve`'s settings as `serve` would see them now (its flags given
    // here, or else the environment, the file and the defaults).
    let serve_matches = match matches.subcommand() {
        Some((SERVE, serve)) => serve.clone(),
        _ => command
            .clone()
            .try_get_matches_from([OsString::from("connecticket"), OsString::from(SERVE)])
            .ok()
            .and_then(|m| m.subcommand_matches(SERVE).cloned())
            .unwrap_or_default(),
    };
    let serve = command.find_subcommand(SERVE).cloned().unwrap_or_default();
    let mut settings = settings_of(&command, &matches, &from_file);
    settings.extend(settings_of(&serve, &serve_matches, &from_file));
    cli.settings = settings;
    Ok(cli)
}

/// Why the command line could not be read.
pub enum ParseError {
    /// Help, version or a usage error: clap prints it.
    Clap(clap::Error),
    Config(anyhow::Error),
}

fn settings_of(
    command: &Command,
    matches: &ArgMatches,
    from_file: &BTreeSet<String>,
) -> Vec<Setting> {
    command
        .get_arguments()
        .filter(|arg| {
            arg.get_long().is_some()
                && !["help", "version", "config"].contains(&arg.get_id().as_str())
        })
        .filter_map(|arg| {
            let id = arg.get_id().as_str();
            let raw: Vec<String> = matches
                .try_get_raw(id)
                .ok()?
                .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
                .unwrap_or_else(|| vec!["(unset)".to_owned()]);
            let source = match matches.value_source(id) {
                Some(ValueSource::CommandLine) => "flag",
                Some(ValueSource::EnvVariable) => "env",
                Some(ValueSource::DefaultValue) if from_file.contains(id) => "file",
                _ => "default",
            };
            Some(Setting {
                name: id.to_owned(),
                value: mask(id, &raw.join(",")),
                source,
            })
        })
        .collect()
}

/// Secrets never print: the hash key and the metrics token at all,
/// passwords in URLs.
fn mask(id: &str, value: &str) -> String {
    if id == "hash_key" || id == "metrics_token" {
        return "***".to_owned();
    }
    if value.contains("://") {
        return crate::database::redact(value);
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        parse_from(args.iter().map(OsString::from).collect()).map_err(|e| match e {
            ParseError::Clap(e) => e.to_string(),
            ParseError::Config(e) => format!("{e:#}"),
        })
    }

    fn setting<'a>(parsed: &'a Cli, name: &str) -> &'a Setting {
        parsed
            .settings
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no setting {name}"))
    }

    #[test]
    fn a_file_sets_defaults_that_flags_override_and_unknown_keys_are_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("connecticket.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:4000\"\nsmtp-url = \"smtp://mailer:pw@mail.example:587\"\n\
             pg_pool_size = 20\nhash_key = \"a-key-from-the-file\"\ntrusted_proxy = [\"10.0.0.0/8\", \"::1\"]\n",
        )
        .expect("write");
        let config = path.to_str().expect("path");
        let parsed = parse(&[
            "connecticket",
            "--config",
            config,
            "serve",
            "--listen",
            "127.0.0.1:5000",
        ])
        .expect("parsed");
        assert_eq!(setting(&parsed, "listen").value, "127.0.0.1:5000");
        assert_eq!(setting(&parsed, "listen").source, "flag");
        assert_eq!(setting(&parsed, "pg_pool_size").value, "20");
        assert_eq!(setting(&parsed, "pg_pool_size").source, "file");
        assert_eq!(
            setting(&parsed, "smtp_url").value,
            "smtp://mailer:***@mail.example:587"
        );
        assert_eq!(setting(&parsed, "hash_key").value, "***");
        assert_eq!(setting(&parsed, "trusted_proxy").value, "10.0.0.0/8,::1");
        assert_eq!(setting(&parsed, "send_timeout_secs").source, "default");
        assert_eq!(parsed.pg_pool_size, 20);
        assert_eq!(parsed.hash_key.as_deref(), Some("a-key-from-the-file"));

        std::fs::write(&path, "listen = \"127.0.0.1:4000\"\nlisten_addr = 1\n").expect("write");
        let error = parse(&["connecticket", "--config", config, "serve"]).expect_err("refused");
        assert!(error.contains("unknown key `listen_addr`"), "{error}");
        std::fs::write(&path, "[serve]\nlisten = 1\n").expect("write");
        let error = parse(&["connecticket", "--config", config, "serve"]).expect_err("refused");
        assert!(error.contains("unknown key `serve`"), "{error}");
        std::fs::write(&path, "listen = \n").expect("write");
        let error = parse(&["connecticket", "--config", config, "serve"]).expect_err("refused");
        assert!(error.contains("is not valid TOML"), "{error}");
    }
}
